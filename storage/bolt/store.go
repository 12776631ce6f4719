// Package bolt is the embedded, single-file storage backend (bbolt), the
// default. Every write goes through one group-commit writer (writer.go).
//
// Layout: one bucket per record kind, keyed by the 16 bytes of the record's
// UUIDv7 id, so key order is time order. Records are written through their
// disk types (records.go), behind a format-version byte (format.go).
//
//	providers  id -> providerRecord (secrets sealed)
//	functions  id -> diskFunction
//	messages   id -> diskMessage (the request's metadata, written once,
//	           encoded by hand: encode.go)
//	payloads   id -> tag byte + raw or compressed body (written once; see
//	           payload.go)
//	outcomes   id -> outcomeRecord (status, provider, summary; written
//	           once, on completion, so a message record is never rewritten)
//	details    id -> detailRecord (logs and executions)
//	pending    id -> empty (index of PENDING messages)
//	versions   owner id + version -> diskScriptVersion (see versions.go)
//	seen, seen_exp  DEDUPE keys and their expiry index (see seen.go)
//	endpoints  id -> endpointRecord (secrets sealed; see endpoints.go)
//	events     id -> eventRecord (written once; see deliveries.go)
//	deliveries id -> deliveryRecord (callback secrets sealed)
//	attempts   delivery id + attempt number (uint16) -> diskAttempt
//	delivery_due  lane + 0x00 + next attempt (Unix nanoseconds) + delivery
//	           id -> empty (time index of PENDING deliveries, per lane)
//	delivery_by_endpoint  endpoint id + delivery id -> empty
//	settings   name -> value (the caller's bytes, as given)
//	event_types  type name -> diskEventType (the outbound catalogue; see
//	           eventtypes.go)
//	users, user_names  users and their lower-cased names (see access.go)
//	tokens, token_hashes  API tokens and their hashes (see access.go)
//	sessions, session_exp  UI sessions and their expiry index (see access.go)
//	audit      id -> diskAudit (written once; see audit.go)
//
// The cluster primitives (storage.Cluster) are those of a cluster of one
// node, kept in memory (cluster.go).
//
// Completions arrive in roughly the order messages were received, so the
// outcomes and details buckets grow at their right edge like the others;
// rewriting message records in place would dirty an old leaf page per
// completion instead.
package bolt

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

var (
	bucketProviders = []byte("providers")
	bucketFunctions = []byte("functions")
	bucketMessages  = []byte("messages")
	bucketPayloads  = []byte("payloads")
	bucketOutcomes  = []byte("outcomes")
	bucketDetails   = []byte("details")
	bucketPending   = []byte("pending")
	bucketVersions  = []byte("versions")
	bucketSeen      = []byte("seen")
	bucketSeenExp   = []byte("seen_exp")

	bucketEndpoints          = []byte("endpoints")
	bucketEvents             = []byte("events")
	bucketDeliveries         = []byte("deliveries")
	bucketAttempts           = []byte("attempts")
	bucketDeliveryDue        = []byte("delivery_due")
	bucketDeliveryByEndpoint = []byte("delivery_by_endpoint")
	bucketSettings           = []byte("settings")
	bucketIdempotency        = []byte("idempotency")
	bucketIdempotencyExp     = []byte("idempotency_exp")
	bucketEventTypes         = []byte("event_types")

	bucketUsers       = []byte("users")
	bucketUserNames   = []byte("user_names")
	bucketTokens      = []byte("tokens")
	bucketTokenHashes = []byte("token_hashes")
	bucketSessions    = []byte("sessions")
	bucketSessionExp  = []byte("session_exp")
	bucketAudit       = []byte("audit")

	// laterBuckets were added after the first release: a file from
	// before lacks them (Open creates them), and is a store all the same.
	laterBuckets = [][]byte{bucketIdempotency, bucketIdempotencyExp, bucketEventTypes}
	allBuckets   = [][]byte{
		bucketProviders, bucketFunctions, bucketMessages, bucketPayloads, bucketOutcomes, bucketDetails, bucketPending, bucketVersions, bucketSeen, bucketSeenExp,
		bucketEndpoints, bucketEvents, bucketDeliveries, bucketAttempts, bucketDeliveryDue, bucketDeliveryByEndpoint, bucketSettings, bucketIdempotency, bucketIdempotencyExp, bucketEventTypes,
		bucketUsers, bucketUserNames, bucketTokens, bucketTokenHashes, bucketSessions, bucketSessionExp, bucketAudit,
	}
)

// initialMmap is the range mapped up front: growing the map means waiting
// for every reader and remapping, a stall under load.
const initialMmap = 1 << 30

// Store implements storage.Store on one bbolt file.
type Store struct {
	db     *bolt.DB
	sealer *seal.Sealer
	now    func() time.Time
	node   string
	// cluster is the node's state in memory (see cluster.go).
	cluster cluster

	mu         sync.RWMutex // guards closed against sends on writes
	closed     bool
	writes     chan *writeOp
	writerDone chan struct{}

	commits, written, commitNanos atomic.Uint64

	// unmatchedFrom is where PurgeUnmatched's last walk of the outcomes
	// stopped (nil: at the start).
	unmatchedMu   sync.Mutex
	unmatchedFrom []byte
}

var _ storage.Store = (*Store)(nil)

// Open opens (creating if needed) the bbolt file at path. Secrets are sealed
// with sealer. It gives up after a second if another process holds the file
// (ErrInUse).
func Open(path string, sealer *seal.Sealer) (*Store, error) {
	if sealer == nil {
		return nil, fmt.Errorf("bolt: a sealer is required")
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         time.Second,
		InitialMmapSize: initialMmap,
		NoFreelistSync:  true,
		FreelistType:    bolt.FreelistMapType,
	})
	if err != nil {
		return nil, openError(path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: create buckets: %w", err)
	}
	node, _, err := newID()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: node id: %w", err)
	}
	s := &Store{
		db:         db,
		sealer:     sealer,
		now:        time.Now,
		node:       node,
		cluster:    newCluster(),
		writes:     make(chan *writeOp, maxGroup),
		writerDone: make(chan struct{}),
	}
	go s.writer()
	return s, nil
}

// Close waits for queued writes to commit, then closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.writes)
	s.mu.Unlock()
	<-s.writerDone
	return s.db.Close()
}

// Ping answers nil while the store is open (its file is local: an open
// store can be reached), ErrClosed once it is closed.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	return nil
}

// key turns an id into its 16-byte key; a malformed id cannot exist.
func key(id string) ([]byte, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return nil, fmt.Errorf("id %q: %w", id, storage.ErrNotFound)
	}
	return u[:], nil
}

// idOf turns a key back into its id.
func idOf(k []byte) string {
	var u uuid.UUID
	copy(u[:], k)
	return u.String()
}

// timeKey is the smallest UUIDv7 key at or after t's millisecond.
func timeKey(t time.Time) []byte {
	ms := uint64(t.UnixMilli())
	k := make([]byte, 16)
	for i := 0; i < 6; i++ {
		k[i] = byte(ms >> (40 - 8*i))
	}
	return k
}

func newID() (string, []byte, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", nil, fmt.Errorf("new id: %w", err)
	}
	return u.String(), u[:], nil
}

func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}
