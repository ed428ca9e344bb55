package changefeed

import dto "github.com/prometheus/client_model/go"

// dtoMetric wraps the client model's metric for counter().
type dtoMetric struct{ dto.Metric }
