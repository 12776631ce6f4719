package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/storage"
)

// Events and deliveries live in five buckets:
//
//	events      event id -> eventRecord (written once)
//	deliveries  delivery id -> deliveryRecord (callback secrets sealed)
//	attempts    delivery id + attempt number (uint16) -> diskAttempt
//	delivery_due  lane + 0x00 + NextAt (Unix nanoseconds) + delivery id ->
//	            empty: the PENDING deliveries of each lane, earliest first
//	delivery_by_endpoint  endpoint id + delivery id -> empty
//
// A lane never contains 0x00, so every key of one lane sorts before the
// keys of any other lane, and lane + 0x01 is where the next lane starts.

// replayBatch bounds the index entries one ReplayFailed transaction reads,
// so a large replay never holds the writer for long.
const replayBatch = 1000

// eventRecord is an event as stored: its data is written as the publisher
// encoded it (storage.EncodedEvent.DataJSON), not encoded again, under the
// "data" key.
type eventRecord struct {
	diskEvent
	Data json.RawMessage `json:"data,omitempty"`
}

// deliveryRecord is a delivery as stored: a callback's auth secrets sealed,
// bound to the delivery's id and the secret's name.
type deliveryRecord struct {
	diskDelivery
	Sealed map[string][]byte `json:"sealed_secrets,omitempty"`
}

func deliveryAAD(id string) func(name string) []byte {
	return func(name string) []byte { return []byte("delivery/" + id + "/" + name) }
}

// sealDelivery makes d's stored form, outside any transaction.
func (s *Store) sealDelivery(d storage.Delivery) deliveryRecord {
	r := deliveryRecord{diskDelivery: toDiskDelivery(&d)}
	if cb := r.Callback; cb != nil { // a copy of d's: ours to change
		sealed := map[string][]byte{}
		s.sealAuth(sealed, d.Callback.Auth, deliveryAAD(d.ID))
		// Credential-like headers (the rule the API shows them by) and
		// every cookie are sealed like the auth.
		cb.Headers = s.sealValues(sealed, "header/", cb.Headers, redact.CredentialHeader, deliveryAAD(d.ID))
		cb.Cookies = s.sealValues(sealed, "cookie/", cb.Cookies, func(string) bool { return true }, deliveryAAD(d.ID))
		if len(sealed) > 0 {
			r.Sealed = sealed
		}
		cb.Auth.Password, cb.Auth.Token = "", ""
	}
	return r
}

func (s *Store) openDelivery(r *deliveryRecord) (storage.Delivery, error) {
	d := r.delivery()
	if cb := d.Callback; cb != nil && len(r.Sealed) > 0 { // a copy of r's: ours to change
		aad := deliveryAAD(d.ID)
		if err := s.openAuth(&cb.Auth, r.Sealed, aad); err != nil {
			return storage.Delivery{}, fmt.Errorf("delivery %s: %w", d.ID, err)
		}
		var err error
		if cb.Headers, err = s.openValues(cb.Headers, "header/", r.Sealed, aad); err != nil {
			return storage.Delivery{}, fmt.Errorf("delivery %s: %w", d.ID, err)
		}
		if cb.Cookies, err = s.openValues(cb.Cookies, "cookie/", r.Sealed, aad); err != nil {
			return storage.Delivery{}, fmt.Errorf("delivery %s: %w", d.ID, err)
		}
	}
	return d, nil
}

// decodeDelivery decodes and opens a stored delivery.
func (s *Store) decodeDelivery(k, v []byte) (storage.Delivery, error) {
	var r deliveryRecord
	if err := decodeRecord(v, &r); err != nil {
		return storage.Delivery{}, fmt.Errorf("delivery %s: %w", idOf(k), err)
	}
	return s.openDelivery(&r)
}

// v7Key turns a caller-made id into its key; it must be a UUIDv7 so that
// key order is time order.
func v7Key(what, id string) ([]byte, error) {
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		return nil, fmt.Errorf("%w: %s id %q is not a UUIDv7", storage.ErrInvalid, what, id)
	}
	return u[:], nil
}

// dueKey is a delivery's entry in the delivery_due index.
func dueKey(lane string, at time.Time, id []byte) []byte {
	k := make([]byte, 0, len(lane)+1+8+16)
	k = append(k, lane...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(at.UnixNano()))
	return append(k, id...)
}

// dueSuffix is the length of a due key after its lane.
const dueSuffix = 1 + 8 + 16

// splitDue takes a due key apart.
func splitDue(k []byte) (lane []byte, at int64, id []byte, ok bool) {
	n := len(k) - dueSuffix
	if n < 0 || k[n] != 0 {
		return nil, 0, nil, false
	}
	return k[:n], int64(binary.BigEndian.Uint64(k[n+1 : n+9])), k[n+9:], true
}

// attemptKey is a delivery's key followed by the attempt number.
func attemptKey(d []byte, n int) []byte {
	k := make([]byte, 18)
	copy(k, d)
	binary.BigEndian.PutUint16(k[16:], uint16(n))
	return k
}

func byEndpointKey(ep, d []byte) []byte {
	return append(append(make([]byte, 0, 32), ep...), d...)
}

// excerpt cuts s to at most n bytes without splitting a UTF-8 sequence.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// AppendEvent records ev and its deliveries, each PENDING and due at its
// NextAt (its CreatedAt if unset), in one write.
func (s *Store) AppendEvent(ctx context.Context, ev storage.EncodedEvent, ds []storage.Delivery) error {
	put, err := s.prepareEvent(ev, ds)
	if err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	if err := s.update(ctx, put); err != nil {
		return fmt.Errorf("append event %s: %w", ev.ID, err)
	}
	return nil
}

// prepareEvent encodes ev and its deliveries and returns the function that
// writes them in a transaction.
func (s *Store) prepareEvent(ev storage.EncodedEvent, ds []storage.Delivery) (func(*bolt.Tx) error, error) {
	ek, err := v7Key("event", ev.ID)
	if err != nil {
		return nil, err
	}
	evRaw, err := encodeRecord(eventRecord{diskEvent: diskEvent(ev.Event), Data: ev.DataJSON})
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", ev.ID, err)
	}
	type prepared struct {
		k, due, byEndpoint, raw []byte
	}
	preps := make([]prepared, 0, len(ds))
	now := s.now().UTC()
	for _, d := range ds {
		var p prepared
		if p.k, err = v7Key("delivery", d.ID); err != nil {
			return nil, fmt.Errorf("event %s: %w", ev.ID, err)
		}
		if d, err = storage.PrepareDelivery(d, ev.ID, now); err != nil {
			return nil, fmt.Errorf("event %s: %w", ev.ID, err)
		}
		p.due = dueKey(d.Lane, *d.NextAt, p.k)
		if d.EndpointID != "" {
			epk, err := key(d.EndpointID)
			if err != nil {
				return nil, fmt.Errorf("event %s: %w: delivery %s has endpoint id %q", ev.ID, storage.ErrInvalid, d.ID, d.EndpointID)
			}
			p.byEndpoint = byEndpointKey(epk, p.k)
		}
		if p.raw, err = encodeRecord(s.sealDelivery(d)); err != nil {
			return nil, fmt.Errorf("event %s: delivery %s: %w", ev.ID, d.ID, err)
		}
		preps = append(preps, p)
	}
	return func(tx *bolt.Tx) error {
		eb, db := tx.Bucket(bucketEvents), tx.Bucket(bucketDeliveries)
		due, byEp := tx.Bucket(bucketDeliveryDue), tx.Bucket(bucketDeliveryByEndpoint)
		// Every key written here is time-ordered within its range (UUIDv7
		// ids; a lane's or endpoint's entries by time), so pages fill from
		// the right: fuller pages are fewer pages written per commit.
		eb.FillPercent, db.FillPercent, due.FillPercent, byEp.FillPercent = appendFill, appendFill, appendFill, appendFill
		if eb.Get(ek) != nil {
			return fmt.Errorf("%w: event exists", storage.ErrConflict)
		}
		if err := eb.Put(ek, evRaw); err != nil {
			return err
		}
		for _, p := range preps {
			if db.Get(p.k) != nil {
				return fmt.Errorf("%w: delivery %s exists", storage.ErrConflict, idOf(p.k))
			}
			if err := db.Put(p.k, p.raw); err != nil {
				return err
			}
			if err := due.Put(p.due, nil); err != nil {
				return err
			}
			if p.byEndpoint != nil {
				if err := byEp.Put(p.byEndpoint, nil); err != nil {
					return err
				}
			}
		}
		return nil
	}, nil
}

// GetEvent returns one event, its data decoded and as it was written.
func (s *Store) GetEvent(ctx context.Context, id string) (storage.EncodedEvent, error) {
	k, err := key(id)
	if err != nil {
		return storage.EncodedEvent{}, fmt.Errorf("event %w", err)
	}
	var ev storage.EncodedEvent
	err = s.view(ctx, func(tx *bolt.Tx) (err error) {
		raw := tx.Bucket(bucketEvents).Get(k)
		if raw == nil {
			return storage.ErrNotFound
		}
		ev, err = decodeEvent(raw)
		return err
	})
	if err != nil {
		return storage.EncodedEvent{}, fmt.Errorf("event %s: %w", id, err)
	}
	return ev, nil
}

// decodeEvent decodes a stored event, its data both as written and
// decoded (into new memory: the event outlives the transaction).
func decodeEvent(raw []byte) (storage.EncodedEvent, error) {
	var r eventRecord
	if err := decodeRecord(raw, &r); err != nil {
		return storage.EncodedEvent{}, err
	}
	ev := storage.EncodedEvent{Event: storage.Event(r.diskEvent), DataJSON: r.Data}
	if len(r.Data) > 0 {
		var err error
		if ev.Data, err = storage.DecodeData(r.Data); err != nil {
			return storage.EncodedEvent{}, fmt.Errorf("data: %w", err)
		}
	}
	return ev, nil
}

// GetDelivery returns a delivery with its attempts, oldest first.
func (s *Store) GetDelivery(ctx context.Context, id string) (storage.DeliveryDetail, error) {
	k, err := key(id)
	if err != nil {
		return storage.DeliveryDetail{}, fmt.Errorf("delivery %w", err)
	}
	var r deliveryRecord
	var attempts []storage.Attempt
	err = s.view(ctx, func(tx *bolt.Tx) (err error) {
		if err := getRecord(tx.Bucket(bucketDeliveries), k, &r); err != nil {
			return err
		}
		attempts, err = readAttempts(tx, k)
		return err
	})
	if err != nil {
		return storage.DeliveryDetail{}, fmt.Errorf("delivery %s: %w", id, err)
	}
	d, err := s.openDelivery(&r)
	if err != nil {
		return storage.DeliveryDetail{}, err
	}
	return storage.DeliveryDetail{Delivery: d, Attempts: attempts}, nil
}

// readAttempts decodes the attempts of the delivery at k, oldest first;
// never nil.
func readAttempts(tx *bolt.Tx, k []byte) ([]storage.Attempt, error) {
	attempts := []storage.Attempt{}
	c := tx.Bucket(bucketAttempts).Cursor()
	for ak, v := c.Seek(k); ak != nil && bytes.HasPrefix(ak, k); ak, v = c.Next() {
		var a diskAttempt
		n := int(binary.BigEndian.Uint16(ak[16:]))
		if err := decodeRecord(v, &a); err != nil {
			return nil, fmt.Errorf("attempt %d: %w", n, err)
		}
		a.N = n // the key holds the number
		attempts = append(attempts, storage.Attempt(a))
	}
	return attempts, nil
}

// ListDeliveries pages newest first, like ListMessages. With an EndpointID
// it walks that endpoint's index instead of every delivery.
func (s *Store) ListDeliveries(ctx context.Context, f storage.DeliveryFilter) ([]storage.Delivery, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	items := []storage.Delivery{}
	// Keys are prefix + delivery key; prefix is the endpoint's key when
	// walking the by-endpoint index.
	var prefix []byte
	if f.EndpointID != "" {
		ep, err := key(f.EndpointID)
		if err != nil {
			return items, "", nil // no delivery has that endpoint
		}
		prefix = ep
	}
	bound := func(k []byte) []byte { return append(bytes.Clone(prefix), k...) }
	upper := bound(bytes.Repeat([]byte{0xff}, 16)) // exclusive; above every key
	if !f.Until.IsZero() {
		upper = bound(timeKey(f.Until))
	}
	if f.Cursor != "" {
		ck, err := key(f.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("%w: cursor must be the next_cursor of the previous page", storage.ErrInvalid)
		}
		if ck := bound(ck); bytes.Compare(ck, upper) < 0 {
			upper = ck
		}
	}
	lower := bound(make([]byte, 16)) // inclusive
	if !f.Since.IsZero() {
		lower = bound(timeKey(f.Since))
	}
	next := ""
	err := s.view(ctx, func(tx *bolt.Tx) error {
		db := tx.Bucket(bucketDeliveries)
		b := db
		if prefix != nil {
			b = tx.Bucket(bucketDeliveryByEndpoint)
		}
		// Keys are prefix + delivery key; the cursor of the next page is
		// the delivery key.
		last, err := newestFirst(b.Cursor(), upper, lower, f.Limit, func(k, v []byte) (bool, error) {
			dk := k[len(prefix):]
			if prefix != nil {
				if v = db.Get(dk); v == nil {
					return false, nil // purged underneath its index entry
				}
			}
			var r deliveryRecord
			if err := decodeRecord(v, &r); err != nil {
				return false, fmt.Errorf("delivery %s: %w", idOf(dk), err)
			}
			if (f.EventID != "" && r.EventID != f.EventID) || (f.Status != "" && r.Status != f.Status) {
				return false, nil
			}
			d, err := s.openDelivery(&r)
			if err != nil {
				return false, err
			}
			items = append(items, d)
			return true, nil
		})
		if last != nil {
			next = idOf(last[len(prefix):])
		}
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	return items, next, nil
}

// DueDeliveries walks the due index lane by lane in one read transaction.
// A lane whose earliest delivery is not due yet is passed over without
// asking take.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, take func(lane string) int, skip func(id string) bool) ([]storage.Delivery, error) {
	var out []storage.Delivery
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = s.due(ctx, tx, now, take, skip)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	return out, nil
}

// due reads DueDeliveries' answer in tx.
func (s *Store) due(ctx context.Context, tx *bolt.Tx, now time.Time, take func(lane string) int, skip func(id string) bool) ([]storage.Delivery, error) {
	limit := now.UnixNano()
	var out []storage.Delivery
	db := tx.Bucket(bucketDeliveries)
	c := tx.Bucket(bucketDeliveryDue).Cursor()
	for k, _ := c.First(); k != nil; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lane, at, _, ok := splitDue(k)
		if !ok {
			return nil, fmt.Errorf("malformed due key %x", k)
		}
		lane = bytes.Clone(lane)
		if at <= limit {
			n := take(string(lane))
			for ; k != nil && n > 0; k, _ = c.Next() {
				l, at, id, ok := splitDue(k)
				if !ok || !bytes.Equal(l, lane) || at > limit {
					break
				}
				if skip != nil && skip(idOf(id)) {
					continue
				}
				v := db.Get(id)
				if v == nil {
					continue // purged underneath its index entry
				}
				d, err := s.decodeDelivery(id, v)
				if err != nil {
					return nil, err
				}
				out = append(out, d)
				n--
			}
		}
		k, _ = c.Seek(append(lane, 1))
	}
	return out, nil
}

// RecordAttempt appends an attempt and moves the delivery to u's state,
// and lets go of the delivery's claim.
func (s *Store) RecordAttempt(ctx context.Context, id string, a storage.Attempt, u storage.DeliveryUpdate) (storage.Delivery, error) {
	k, err := key(id)
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("record attempt: delivery %w", err)
	}
	switch u.Status {
	case storage.DeliveryPending:
		if u.NextAt == nil {
			return storage.Delivery{}, fmt.Errorf("record attempt %s: %w: PENDING without a next attempt time", id, storage.ErrInvalid)
		}
	case storage.DeliverySuccess, storage.DeliveryFailed:
	default:
		return storage.Delivery{}, fmt.Errorf("record attempt %s: %w: status %q", id, storage.ErrInvalid, u.Status)
	}
	a.Response = excerpt(a.Response, storage.MaxResponseExcerpt)
	// Encoded before the write, outside the single writer; its number
	// is its key's, so the record does not need it.
	a.N = 0
	attempt, err := encodeRecord(diskAttempt(a))
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("record attempt %s: %w", id, err)
	}
	var r deliveryRecord
	err = s.update(ctx, func(tx *bolt.Tx) error {
		db, due := tx.Bucket(bucketDeliveries), tx.Bucket(bucketDeliveryDue)
		r = deliveryRecord{}
		if err := getRecord(db, k, &r); err != nil {
			return err
		}
		if r.Status != storage.DeliveryPending {
			return fmt.Errorf("%w: delivery is %s", storage.ErrConflict, r.Status)
		}
		n := r.AttemptCount + 1
		if n > math.MaxUint16 {
			return fmt.Errorf("%w: too many attempts", storage.ErrConflict)
		}
		ab := tx.Bucket(bucketAttempts)
		ab.FillPercent = appendFill // keys are delivery ids (UUIDv7), then the number
		if err := ab.Put(attemptKey(k, n), attempt); err != nil {
			return err
		}
		if r.NextAt != nil {
			if err := due.Delete(dueKey(r.Lane, *r.NextAt, k)); err != nil {
				return err
			}
		}
		r.AttemptCount = n
		r.LastStatus, r.LastError, r.UpdatedAt = a.Status, a.Error, a.At
		r.Status, r.NextAt = u.Status, nil
		if u.Status == storage.DeliveryPending {
			next := *u.NextAt
			r.NextAt = &next
			if err := due.Put(dueKey(r.Lane, next, k), nil); err != nil {
				return err
			}
		}
		return putRecord(db, k, r)
	})
	if releasedBy(err) {
		s.releaseDeliveries(id)
	}
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("record attempt %s: %w", id, err)
	}
	return s.openDelivery(&r)
}

// replay makes the delivery at k due at now with a fresh retry budget.
func replay(tx *bolt.Tx, k []byte, r *deliveryRecord, now time.Time) error {
	at := now
	r.Status, r.Base, r.NextAt, r.UpdatedAt = storage.DeliveryPending, r.AttemptCount, &at, now
	if err := tx.Bucket(bucketDeliveryDue).Put(dueKey(r.Lane, now, k), nil); err != nil {
		return err
	}
	return putRecord(tx.Bucket(bucketDeliveries), k, r)
}

// ReplayDelivery makes a finished delivery due at now again.
func (s *Store) ReplayDelivery(ctx context.Context, id string, now time.Time) (storage.Delivery, error) {
	k, err := key(id)
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("replay delivery: delivery %w", err)
	}
	var r deliveryRecord
	err = s.update(ctx, func(tx *bolt.Tx) error {
		r = deliveryRecord{}
		if err := getRecord(tx.Bucket(bucketDeliveries), k, &r); err != nil {
			return err
		}
		if r.Status == storage.DeliveryPending {
			return fmt.Errorf("%w: delivery is already PENDING", storage.ErrConflict)
		}
		return replay(tx, k, &r, now)
	})
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("replay delivery %s: %w", id, err)
	}
	return s.openDelivery(&r)
}

// ReplayFailed replays the FAILED deliveries of an endpoint created in
// [since, until). It walks the endpoint's index in writes of up to
// replayBatch entries: each write is atomic, the whole is not, and on error
// the count says how many were replayed.
func (s *Store) ReplayFailed(ctx context.Context, endpointID string, since, until, now time.Time) (int, error) {
	ep, err := key(endpointID)
	if err != nil {
		return 0, fmt.Errorf("replay failed: endpoint %w", err)
	}
	start := byEndpointKey(ep, make([]byte, 16))
	if !since.IsZero() {
		start = byEndpointKey(ep, timeKey(since))
	}
	var end []byte // exclusive
	if !until.IsZero() {
		end = byEndpointKey(ep, timeKey(until))
	}
	total := 0
	for start != nil {
		var n int
		var resume []byte
		err := s.update(ctx, func(tx *bolt.Tx) error {
			n, resume = 0, nil
			db := tx.Bucket(bucketDeliveries)
			c := tx.Bucket(bucketDeliveryByEndpoint).Cursor()
			scanned := 0
			for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, ep); k, _ = c.Next() {
				if end != nil && bytes.Compare(k, end) >= 0 {
					return nil
				}
				if scanned == replayBatch {
					resume = bytes.Clone(k)
					return nil
				}
				scanned++
				dk := k[16:]
				var r deliveryRecord
				if err := getRecord(db, dk, &r); err != nil {
					if errors.Is(err, storage.ErrNotFound) {
						continue // purged underneath its index entry
					}
					return fmt.Errorf("delivery %s: %w", idOf(dk), err)
				}
				if r.Status != storage.DeliveryFailed {
					continue
				}
				if err := replay(tx, bytes.Clone(dk), &r, now); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("replay failed deliveries of %s: %w", endpointID, err)
		}
		total += n
		start = resume
	}
	return total, nil
}

// PurgeDeliveries deletes, oldest first, up to limit deliveries created
// before cutoff (with their attempts and index entries), then, within what
// is left of limit, events published before cutoff. Deliveries go first so
// that an interrupted purge never leaves one whose event is gone.
func (s *Store) PurgeDeliveries(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	bound := timeKey(cutoff)
	// Most runs find nothing to purge: look first, so that they cost no
	// commit.
	var found bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketDeliveries, bucketEvents} {
			if k, _ := tx.Bucket(name).Cursor().First(); k != nil && bytes.Compare(k, bound) < 0 {
				found = true
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge deliveries: %w", err)
	}
	if !found {
		return 0, nil
	}
	var n int
	err = s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		db := tx.Bucket(bucketDeliveries)
		var keys [][]byte
		c := db.Cursor()
		for k, _ := c.First(); k != nil && len(keys) < limit && bytes.Compare(k, bound) < 0; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			var r deliveryRecord
			if err := getRecord(db, k, &r); err != nil {
				return fmt.Errorf("delivery %s: %w", idOf(k), err)
			}
			if r.NextAt != nil {
				if err := tx.Bucket(bucketDeliveryDue).Delete(dueKey(r.Lane, *r.NextAt, k)); err != nil {
					return err
				}
			}
			if r.EndpointID != "" {
				if ep, err := key(r.EndpointID); err == nil {
					if err := tx.Bucket(bucketDeliveryByEndpoint).Delete(byEndpointKey(ep, k)); err != nil {
						return err
					}
				}
			}
			ac := tx.Bucket(bucketAttempts).Cursor()
			for ak, _ := ac.Seek(k); ak != nil && bytes.HasPrefix(ak, k); ak, _ = ac.Seek(k) {
				if err := ac.Delete(); err != nil {
					return err
				}
			}
			if err := db.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		keys = keys[:0]
		eb := tx.Bucket(bucketEvents)
		c = eb.Cursor()
		for k, _ := c.First(); k != nil && n+len(keys) < limit && bytes.Compare(k, bound) < 0; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := eb.Delete(k); err != nil {
				return err
			}
		}
		n += len(keys)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge deliveries: %w", err)
	}
	return n, nil
}

// CountPendingDeliveries counts the entries of the due index, one per
// PENDING delivery, up to limit, in one read transaction.
func (s *Store) CountPendingDeliveries(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDeliveryDue).Cursor()
		for k, _ := c.First(); k != nil && n < limit; k, _ = c.Next() {
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count pending deliveries: %w", err)
	}
	return n, nil
}
