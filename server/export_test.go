package server

import "time"

// Route is an admin API route as the permission tests see it.
type Route = apiRoute

// Routes lists the admin API routes of s.
func Routes(s *Server) []Route { return s.apiRoutes() }

// SetBodyTimeout shortens how long a webhook body may take to arrive.
func SetBodyTimeout(o *Options, d time.Duration) { o.bodyTimeout = d }
