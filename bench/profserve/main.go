// Command profserve is `switchyard serve` with CPU profiling switched on
// and off by signals, for bench/ingest.sh with BENCH_PROFILE=1. The server
// has no pprof endpoint; this runs the same server.Server in-process.
//
// Unlike `switchyard serve`, it reads no config file and, of the
// environment, only SWITCHYARD_ADMIN_TOKEN, SWITCHYARD_WORKERS,
// SWITCHYARD_STORE and SWITCHYARD_SECRET_KEY (for bench/cluster.sh's
// PostgreSQL nodes); every other setting is the default.
//
// SIGUSR1 starts a CPU profile into <prefix>-<n>.pprof (n = 1, 2, ...),
// SIGUSR2 stops and writes it. SIGINT or SIGTERM stops the server (and a
// profile still running).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"

	"github.com/switchyard-dev/switchyard/server"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	data := flag.String("data", "", "data directory (required)")
	defWorkers := 0 // the server's default
	if v, err := strconv.Atoi(os.Getenv("SWITCHYARD_WORKERS")); err == nil && v > 0 {
		defWorkers = v
	}
	workers := flag.Int("workers", defWorkers, "messages processed at once (default $SWITCHYARD_WORKERS, or the server's default)")
	prefix := flag.String("cpuprofile", "cpu", "profiles are written to <prefix>-<n>.pprof")
	flag.Parse()
	if *data == "" {
		fmt.Fprintln(os.Stderr, "profserve: --data is required")
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv, err := server.New(server.Options{
		Listen:     *listen,
		DataDir:    *data,
		Store:      os.Getenv("SWITCHYARD_STORE"),
		Workers:    *workers,
		AdminToken: os.Getenv("SWITCHYARD_ADMIN_TOKEN"),
		SecretKey:  os.Getenv("SWITCHYARD_SECRET_KEY"),
		Logger:     logger,
	})
	if err != nil {
		logger.Error("cannot start", "err", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	var (
		n   int
		cur *os.File
	)
	stopProfile := func() {
		if cur == nil {
			return
		}
		pprof.StopCPUProfile()
		cur.Close()
		logger.Info("cpu profile written", "file", cur.Name())
		cur = nil
	}
	go func() {
		for sig := range sigs {
			switch sig {
			case syscall.SIGUSR1:
				stopProfile()
				n++
				f, err := os.Create(fmt.Sprintf("%s-%d.pprof", *prefix, n))
				if err != nil {
					logger.Error("cpu profile", "err", err)
					continue
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					logger.Error("cpu profile", "err", err)
					f.Close()
					continue
				}
				cur = f
				logger.Info("cpu profile started", "file", f.Name())
			case syscall.SIGUSR2:
				stopProfile()
			}
		}
	}()
	err = srv.Run(ctx)
	signal.Stop(sigs)
	if err != nil {
		logger.Error("stopped with an error", "err", err)
		os.Exit(1)
	}
}
