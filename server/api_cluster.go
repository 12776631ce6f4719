package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/storage"
)

// clusterView is GET /cluster: the live nodes sharing the store, and
// which of them answered.
type clusterView struct {
	Nodes []storage.Node `json:"nodes"`
	Self  string         `json:"self"`
}

// getCluster lists the live nodes (on bbolt, this one).
func (s *Server) getCluster(c echo.Context) error {
	nodes, err := s.store.Nodes(c.Request().Context())
	if err != nil {
		return err
	}
	if nodes == nil {
		nodes = []storage.Node{}
	}
	return c.JSON(http.StatusOK, clusterView{Nodes: nodes, Self: s.node.ID()})
}
