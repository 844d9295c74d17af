package httpapi

import (
	"net/http"
	"net/http/pprof"
)

// pprofRoutes adds Go's profiler under /debug/pprof/ (as Kubo offers it),
// so that anyone can profile a slow transfer on their own daemon:
//
//	go tool pprof -http=: 'http://127.0.0.1:PORT/debug/pprof/profile?seconds=20'
//
// with the API token sent as a Bearer header (go tool pprof reads none;
// fetch the profile with curl -H "Authorization: Bearer $(cat REPO/api.token)"
// and open the file). Every route is a secret read: a profile shows the
// daemon's command line, goroutine stacks and heap contents' shapes, and
// a CPU profile or trace costs the daemon while it runs. None changes
// anything, so none takes a body.
func (s *Server) pprofRoutes(route func(pattern string, a access, b body, h http.HandlerFunc)) {
	route("GET /debug/pprof/{$}", secret, noBody, pprof.Index)
	route("GET /debug/pprof/cmdline", secret, noBody, pprof.Cmdline)
	route("GET /debug/pprof/profile", secret, noBody, pprof.Profile)
	route("GET /debug/pprof/symbol", secret, noBody, pprof.Symbol)
	route("GET /debug/pprof/trace", secret, noBody, pprof.Trace)
	// The named profiles: heap, allocs, goroutine, block, mutex,
	// threadcreate. Index serves each by the name in the path.
	route("GET /debug/pprof/{name}", secret, noBody, pprof.Index)
}
