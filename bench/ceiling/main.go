// Command ceiling is the baseline of bench/ingest.sh: the least an Echo v4
// webhook receiver can do. On POST /webhooks/v1/* it reads the whole body
// and answers 202 with a small JSON body; nothing is parsed, stored or run.
// Switchyard's figures are reported as ratios to this one's, measured in the
// same run on the same machine.
//
// It prints "listening on <addr>" once it accepts connections, so that the
// benchmark can ask for port 0 and learn the port.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"
)

type accepted struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	flag.Parse()

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/webhooks/v1/*", func(c echo.Context) error {
		// Read into memory, as a receiver that keeps the body must.
		if _, err := io.ReadAll(c.Request().Body); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		return c.JSON(http.StatusAccepted, accepted{ID: "ceiling", Status: "PENDING"})
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, e))
}
