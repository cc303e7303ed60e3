// Package observe is what operators see of the service: Prometheus
// metrics, one log line per request with its correlation id, and
// OpenTelemetry traces when an OTLP endpoint is configured.
package observe

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/samverkan/samverkan/internal/store"
)

// Metrics are the service's Prometheus metrics, on a registry of their own.
type Metrics struct {
	Registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	gqlOps       *prometheus.CounterVec
	gqlDuration  *prometheus.HistogramVec
	transitions  *prometheus.CounterVec
	jobs         *prometheus.CounterVec
	jobDuration  *prometheus.HistogramVec
	deliveries   *prometheus.CounterVec
	pgRestarts   prometheus.Counter
}

// NewMetrics creates and registers the metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "samverkan_http_requests_total",
			Help: "HTTP requests by route and status."}, []string{"route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "samverkan_http_request_duration_seconds",
			Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"}),
		gqlOps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "samverkan_graphql_operations_total",
			Help: "GraphQL operations by operation name and error code (OK when none)."}, []string{"operation", "code"}),
		gqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "samverkan_graphql_operation_duration_seconds",
			Help: "GraphQL operation latency by operation name.", Buckets: prometheus.DefBuckets}, []string{"operation"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "samverkan_workflow_transitions_total",
			Help: "Workflow transitions by kind, transition and result."}, []string{"kind", "transition", "result"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "samverkan_river_jobs_worked_total",
			Help: "River jobs worked in this process by kind and result."}, []string{"kind", "result"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "samverkan_river_job_duration_seconds",
			Help: "River job latency by kind.", Buckets: prometheus.DefBuckets}, []string{"kind"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "samverkan_mail_deliveries_total",
			Help: "E-mail delivery attempts by outcome: sent (accepted by the server), retried (temporary failure), failed (refused for good)."},
			[]string{"outcome"}),
		pgRestarts: prometheus.NewCounter(prometheus.CounterOpts{Name: "samverkan_embedded_postgres_restarts_total",
			Help: "Times this process restarted its embedded PostgreSQL after it died."}),
	}
	m.Registry.MustRegister(m.httpRequests, m.httpDuration, m.gqlOps, m.gqlDuration, m.transitions, m.jobs, m.jobDuration, m.deliveries, m.pgRestarts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// ObserveHTTP records a request.
func (m *Metrics) ObserveHTTP(route string, status int, d time.Duration) {
	m.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveOperation records a GraphQL operation.
func (m *Metrics) ObserveOperation(name, code string, d time.Duration) {
	if name == "" {
		name = "anonymous"
	}
	m.gqlOps.WithLabelValues(name, code).Inc()
	m.gqlDuration.WithLabelValues(name).Observe(d.Seconds())
}

// Transition records a workflow transition's result.
func (m *Metrics) Transition(kind, transition, result string) {
	m.transitions.WithLabelValues(kind, transition, result).Inc()
}

// Delivery records an e-mail delivery attempt's outcome (sent, retried or
// failed).
func (m *Metrics) Delivery(outcome string) { m.deliveries.WithLabelValues(outcome).Inc() }

// EmbeddedDatabaseRestarted counts a restart of the embedded PostgreSQL.
func (m *Metrics) EmbeddedDatabaseRestarted() { m.pgRestarts.Inc() }

// JobMiddleware is a River worker middleware recording each job.
func (m *Metrics) JobMiddleware() rivertype.WorkerMiddleware { return &jobMiddleware{m: m} }

type jobMiddleware struct {
	river.MiddlewareDefaults
	m *Metrics
}

func (j *jobMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	err := doInner(ctx)
	result := "ok"
	if err != nil {
		result = "error"
	}
	j.m.jobs.WithLabelValues(job.Kind, result).Inc()
	j.m.jobDuration.WithLabelValues(job.Kind).Observe(time.Since(start).Seconds())
	return err
}

// DatabaseGauges are read at scrape time: the connection pool, River's jobs
// by kind and state, open workflow instances by kind and state, and the
// follow-ups whose reports are overdue (a gauge to alert on).
type DatabaseGauges struct {
	Pool *pgxpool.Pool
	Log  *slog.Logger
	// Now is the service's clock.
	Now func() time.Time
}

var (
	poolDesc = map[string]*prometheus.Desc{
		"acquired": prometheus.NewDesc("samverkan_db_pool_acquired_conns", "Connections in use.", nil, nil),
		"idle":     prometheus.NewDesc("samverkan_db_pool_idle_conns", "Idle connections.", nil, nil),
		"total":    prometheus.NewDesc("samverkan_db_pool_total_conns", "Open connections.", nil, nil),
		"max":      prometheus.NewDesc("samverkan_db_pool_max_conns", "The pool's size.", nil, nil),
		"waits":    prometheus.NewDesc("samverkan_db_pool_empty_acquire_total", "Acquires that had to wait for a connection.", nil, nil),
	}
	jobsDesc      = prometheus.NewDesc("samverkan_river_jobs", "River jobs by kind and state.", []string{"kind", "state"}, nil)
	instancesDesc = prometheus.NewDesc("samverkan_workflow_open_instances", "Open workflow instances by kind and state.", []string{"kind", "state"}, nil)
	overdueDesc   = prometheus.NewDesc("samverkan_followups_overdue", "Annual follow-ups still collecting reports after their deadline.", nil, nil)
)

// Describe implements prometheus.Collector.
func (g *DatabaseGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range poolDesc {
		ch <- d
	}
	ch <- jobsDesc
	ch <- instancesDesc
	ch <- overdueDesc
}

// Collect implements prometheus.Collector.
func (g *DatabaseGauges) Collect(ch chan<- prometheus.Metric) {
	s := g.Pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolDesc["acquired"], prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(poolDesc["idle"], prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(poolDesc["total"], prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(poolDesc["max"], prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolDesc["waits"], prometheus.CounterValue, float64(s.EmptyAcquireCount()))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	counts, err := g.query(ctx)
	if err != nil {
		g.Log.Warn("reading gauges for /metrics", "err", err)
		return
	}
	for _, c := range counts.jobs {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(c.N), c.Kind, c.State)
	}
	for _, c := range counts.instances {
		ch <- prometheus.MustNewConstMetric(instancesDesc, prometheus.GaugeValue, float64(c.N), c.Kind, c.State)
	}
	ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(counts.overdue))
}

type gaugeCounts struct {
	jobs, instances []store.KindStateCount
	overdue         int64
}

func (g *DatabaseGauges) query(ctx context.Context) (gaugeCounts, error) {
	var c gaugeCounts
	var err error
	if c.jobs, err = store.JobCounts(ctx, g.Pool); err != nil {
		return c, err
	}
	if c.instances, err = store.OpenInstanceCounts(ctx, g.Pool); err != nil {
		return c, err
	}
	c.overdue, err = store.OverdueFollowUps(ctx, g.Pool, g.Now())
	return c, err
}
