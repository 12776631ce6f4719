package server

// Route is an admin API route as the permission tests see it.
type Route = apiRoute

// Routes lists the admin API routes of s.
func Routes(s *Server) []Route { return s.apiRoutes() }
