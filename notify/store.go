package notify

import (
	"context"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// Store is what the outbound engine needs of the store: endpoints and
// their health, events and their deliveries, the claims on due deliveries
// and the pause setting. Every backend's storage.Store has it; see
// storage.Store and storage.Cluster for what each method promises.
type Store interface {
	ListEndpoints(ctx context.Context) ([]storage.Endpoint, error)
	GetEndpoint(ctx context.Context, id string) (storage.Endpoint, error)
	CreateEndpoint(ctx context.Context, e storage.Endpoint) (storage.Endpoint, error)
	UpdateEndpoint(ctx context.Context, e storage.Endpoint) (storage.Endpoint, error)
	DeleteEndpoint(ctx context.Context, id string) error
	SetEndpointHealth(ctx context.Context, id string, h storage.EndpointHealth) (storage.Endpoint, error)

	ListEventTypes(ctx context.Context) ([]storage.EventType, error)
	GetEventType(ctx context.Context, name string) (storage.EventType, error)
	PutEventType(ctx context.Context, t storage.EventType, create bool) (storage.EventType, bool, error)
	DeleteEventType(ctx context.Context, name string) error

	AppendEvent(ctx context.Context, ev storage.EncodedEvent, ds []storage.Delivery) error
	AppendEventOnce(ctx context.Context, key storage.Idempotency, ev storage.EncodedEvent, ds []storage.Delivery) (storage.Idempotency, bool, error)
	GetEvent(ctx context.Context, id string) (storage.EncodedEvent, error)
	GetDelivery(ctx context.Context, id string) (storage.DeliveryDetail, error)
	ListDeliveries(ctx context.Context, f storage.DeliveryFilter) ([]storage.Delivery, string, error)
	ClaimDue(ctx context.Context, now time.Time, take func(lane string) int) ([]storage.Delivery, error)
	ReleaseDeliveries(ctx context.Context, ids []string) error
	RecordAttempt(ctx context.Context, id string, a storage.Attempt, u storage.DeliveryUpdate) (storage.Delivery, error)
	ReplayDelivery(ctx context.Context, id string, now time.Time) (storage.Delivery, error)
	ReplayFailed(ctx context.Context, endpointID string, since, until, now time.Time) (int, error)

	Setting(ctx context.Context, name string) ([]byte, error)
	PutSetting(ctx context.Context, name string, value []byte) error

	storage.Locker
}

// freshHolder is a store of one process that can hold, as its claims,
// the deliveries the engine starts from memory (storage/bolt's
// HoldDeliveries). The engine starts the deliveries it has just published
// without reading them back only on such a store: there no other process
// claims deliveries, and once held, ClaimDue neither hands them out again
// nor leaves them out of their lanes' counts. On a store that nodes share
// (storage/postgres) every delivery is claimed with ClaimDue, so that
// endpoints' concurrency and rate limits hold for the whole cluster.
type freshHolder interface {
	HoldDeliveries(ds []storage.Delivery)
}
