package node

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves the node's Prometheus metrics from a registry of
// its own (no global registry: two nodes in one process stay apart).
func (n *Node) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	counter := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
	}
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	counter("shardcast_xfer_blocks_served_total", "Blocks served to peers over xfer.", func() float64 {
		if n.xfer == nil {
			return 0
		}
		return float64(n.xfer.Blocks.Load())
	})
	counter("shardcast_xfer_bytes_served_total", "Bytes of blocks served to peers over xfer.", func() float64 {
		if n.xfer == nil {
			return 0
		}
		return float64(n.xfer.Bytes.Load())
	})
	gauge("shardcast_peers", "Connected peers.", func() float64 { return float64(len(n.Peers())) })
	gauge("shardcast_campaigns", "Campaigns this node knows.", func() float64 { return float64(len(n.catalog.List())) })
	reg.MustRegister(collectors.NewGoCollector())
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
