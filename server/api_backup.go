package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// backuper is a store that can copy itself while it serves: bbolt, through
// one read transaction (storage/bolt Store.Backup).
type backuper interface {
	Backup(ctx context.Context, fn func(size int64, snapshot io.WriterTo) error) error
}

// backupStall is how long a backup's client may take to accept the next
// bytes before the answer is cut; the whole may take as long as it needs.
const backupStall = time.Minute

// backup: GET /api/v1/backup streams a consistent copy of the bbolt store,
// as of the moment it starts, while the server goes on (admin; audited).
func (s *Server) backup(c echo.Context) error {
	b, ok := s.store.(backuper)
	if !ok {
		return echo.NewHTTPError(http.StatusNotImplemented,
			"this store cannot be backed up through Switchyard; back PostgreSQL up with its own tools (pg_dump, base backups)")
	}
	res := c.Response()
	var written, size int64
	err := b.Backup(c.Request().Context(), func(n int64, snapshot io.WriterTo) error {
		size = n
		h := res.Header()
		h.Set(echo.HeaderContentType, echo.MIMEOctetStream)
		h.Set(echo.HeaderContentLength, strconv.FormatInt(n, 10))
		h.Set(echo.HeaderContentDisposition, `attachment; filename="switchyard-`+time.Now().UTC().Format("20060102T150405Z")+`.db"`)
		res.WriteHeader(http.StatusOK)
		var err error
		written, err = snapshot.WriteTo(stallWriter{res, http.NewResponseController(res)})
		return err
	})
	if err != nil && res.Committed {
		// Too late for an error answer: the client sees a short body
		// (Content-Length says how long it should be).
		s.log.Warn("a backup stopped before its end", "bytes", written, "size", size, "err", err)
		setAudit(c, "", "", fmt.Sprintf("stopped after %d of %d bytes", written, size))
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	setAudit(c, "", "", fmt.Sprintf("%d bytes", written))
	return nil
}

// stallWriter gives each write backupStall to go through.
type stallWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (s stallWriter) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(backupStall))
	return s.w.Write(p)
}
