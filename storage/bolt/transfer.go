package bolt

import (
	"bytes"
	"context"
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/transfer"
)

// The store as a source and a target of transfer.Copy: Export reads each
// kind's bucket in key order, a batch per read transaction, through the
// same decoders as the store's own reads; Import writes a batch's records
// and their index entries in one write, through the same encoders as the
// store's own writes.

var (
	_ transfer.Exporter = (*Store)(nil)
	_ transfer.Importer = (*Store)(nil)
)

// kindBuckets is the bucket of each kind's records, and whether its keys
// are the 16 bytes of a uuid (otherwise the key's own bytes: a session's
// id, a DEDUPE or idempotency key, a setting's name).
var kindBuckets = map[transfer.Kind]struct {
	bucket []byte
	uuid   bool
}{
	transfer.Settings:    {bucketSettings, false},
	transfer.Users:       {bucketUsers, true},
	transfer.Tokens:      {bucketTokens, true},
	transfer.Sessions:    {bucketSessions, false},
	transfer.Providers:   {bucketProviders, true},
	transfer.Functions:   {bucketFunctions, true},
	transfer.Endpoints:   {bucketEndpoints, true},
	transfer.EventTypes:  {bucketEventTypes, false},
	transfer.Events:      {bucketEvents, true},
	transfer.Deliveries:  {bucketDeliveries, true},
	transfer.Idempotency: {bucketIdempotency, false},
	transfer.Messages:    {bucketMessages, true},
	transfer.Seen:        {bucketSeen, false},
	transfer.Audit:       {bucketAudit, true},
}

// exportedKey is the key of a record as transfer.Batch holds it.
func exportedKey(uuidKey bool, k []byte) string {
	if uuidKey {
		return idOf(k)
	}
	return string(k)
}

// transferKey is the bucket key of a record's key (transfer.Batch).
func transferKey(k transfer.Kind, id string) ([]byte, error) {
	if err := k.Check(); err != nil {
		return nil, err
	}
	if !kindBuckets[k].uuid {
		return []byte(id), nil
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %s id %q is not a uuid", storage.ErrInvalid, k, id)
	}
	return u[:], nil
}

// Export reads up to limit records of kind k after `after`, in key order,
// in one read transaction (see transfer.Exporter).
func (s *Store) Export(ctx context.Context, k transfer.Kind, after string, limit int) (transfer.Batch, error) {
	b := transfer.Batch{Kind: k}
	if err := k.Check(); err != nil {
		return b, fmt.Errorf("export: %w", err)
	}
	kb := kindBuckets[k]
	var start []byte
	if after != "" {
		var err error
		if start, err = transferKey(k, after); err != nil {
			return b, fmt.Errorf("export %s: %w", k, err)
		}
	}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(kb.bucket).Cursor()
		var key, v []byte
		if start == nil {
			key, v = c.First()
		} else if key, v = c.Seek(start); key != nil && bytes.Equal(key, start) {
			key, v = c.Next()
		}
		var size int64
		for n := 0; key != nil && n < limit && size < transfer.MaxBatchBytes; key, v = c.Next() {
			body, err := s.exportRecord(tx, &b, key, v)
			if err != nil {
				return fmt.Errorf("%s %s: %w", k, k.Show(exportedKey(kb.uuid, key)), err)
			}
			size += int64(body)
			n++
		}
		return nil
	})
	if err != nil {
		return transfer.Batch{Kind: k}, fmt.Errorf("export %s: %w", k, err)
	}
	return b, nil
}

// exportRecord decodes the record at key of b's kind, with its parts, and
// appends it to b. It answers the size of a message's body.
func (s *Store) exportRecord(tx *bolt.Tx, b *transfer.Batch, key, v []byte) (int, error) {
	switch b.Kind {
	case transfer.Settings:
		b.Settings = append(b.Settings, transfer.Setting{Name: string(key), Value: bytes.Clone(v)})
	case transfer.EventTypes:
		var r diskEventType
		if err := decodeRecord(v, &r); err != nil {
			return 0, err
		}
		b.EventTypes = append(b.EventTypes, storage.EventType(r))
	case transfer.Users:
		var r diskUser
		if err := decodeRecord(v, &r); err != nil {
			return 0, err
		}
		b.Users = append(b.Users, storage.User(r))
	case transfer.Tokens:
		var r diskToken
		if err := decodeRecord(v, &r); err != nil {
			return 0, err
		}
		b.Tokens = append(b.Tokens, storage.APIToken(r))
	case transfer.Sessions:
		var r diskSession
		if err := decodeRecord(v, &r); err != nil {
			return 0, err
		}
		r.ID = string(key) // the key is the truth
		b.Sessions = append(b.Sessions, storage.Session(r))
	case transfer.Providers:
		var r providerRecord
		if err := decodeRecord(v, &r); err != nil {
			return 0, err
		}
		p, err := s.openProvider(r)
		if err != nil {
			return 0, err
		}
		versions, err := readVersions(tx, key)
		if err != nil {
			return 0, err
		}
		b.Providers = append(b.Providers, transfer.Provider{Provider: p, Versions: versions})
	case transfer.Functions:
		var r diskFunction
		if err := decodeRecord(v, &r); err != nil {
			return 0, err
		}
		versions, err := readVersions(tx, key)
		if err != nil {
			return 0, err
		}
		b.Functions = append(b.Functions, transfer.Function{Function: storage.Function(r), Versions: versions})
	case transfer.Endpoints:
		var r endpointRecord
		if err := decodeRecord(v, &r); err != nil {
			return 0, err
		}
		e, err := s.openEndpoint(r)
		if err != nil {
			return 0, err
		}
		b.Endpoints = append(b.Endpoints, e)
	case transfer.Events:
		ev, err := decodeEvent(v)
		if err != nil {
			return 0, err
		}
		b.Events = append(b.Events, ev)
	case transfer.Deliveries:
		d, err := s.decodeDelivery(key, v)
		if err != nil {
			return 0, err
		}
		attempts, err := readAttempts(tx, key)
		if err != nil {
			return 0, err
		}
		b.Deliveries = append(b.Deliveries, storage.DeliveryDetail{Delivery: d, Attempts: attempts})
	case transfer.Messages:
		var m transfer.Message
		if err := readMessageDetail(tx, key, &m.MessageDetail); err != nil {
			return 0, err
		}
		if raw := tx.Bucket(bucketPayloads).Get(key); raw != nil {
			var err error
			if m.Payload, err = decodePayload(raw); err != nil {
				return 0, err
			}
		}
		b.Messages = append(b.Messages, m)
		return len(m.Payload), nil
	case transfer.Idempotency:
		var r idempotencyRecord
		if err := decodeRecord(v, &r); err != nil {
			return 0, err
		}
		b.Idempotency = append(b.Idempotency, storage.Idempotency{Key: string(key), BodyHash: bytes.Clone(r.BodyHash),
			EventID: r.EventID, Response: bytes.Clone(r.Response), CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt})
	case transfer.Seen:
		exp, err := expiryTime(v)
		if err != nil {
			return 0, err
		}
		b.Seen = append(b.Seen, transfer.SeenKey{Key: string(key), ExpiresAt: exp})
	case transfer.Audit:
		var r diskAudit
		if err := decodeRecord(v, &r); err != nil {
			return 0, err
		}
		b.Audit = append(b.Audit, storage.AuditEntry(r))
	}
	return 0, nil
}

// Count says how many records of kind k the store holds, and their parts.
func (s *Store) Count(ctx context.Context, k transfer.Kind) (transfer.Counts, error) {
	if err := k.Check(); err != nil {
		return transfer.Counts{}, fmt.Errorf("count: %w", err)
	}
	kb := kindBuckets[k]
	var n transfer.Counts
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(kb.bucket)
		n.Records = int64(b.Stats().KeyN)
		switch k {
		case transfer.Providers, transfer.Functions:
			// One bucket holds the versions of both: count those of
			// this kind's owners.
			c := tx.Bucket(bucketVersions).Cursor()
			for vk, _ := c.First(); vk != nil; vk, _ = c.Next() {
				if b.Get(vk[:16]) != nil {
					n.Parts++
				}
			}
		case transfer.Messages:
			n.Parts = int64(tx.Bucket(bucketPayloads).Stats().KeyN)
		case transfer.Deliveries:
			n.Parts = int64(tx.Bucket(bucketAttempts).Stats().KeyN)
		}
		return nil
	})
	if err != nil {
		return transfer.Counts{}, fmt.Errorf("count %s: %w", k, err)
	}
	return n, nil
}

// put is one key and value an import writes. A record's own key, and a
// unique index's, must be new.
type put struct {
	bucket, key, value []byte
	unique             bool
}

// Import writes the records of b and their index entries in one write
// (see transfer.Importer). Everything is encoded and sealed before the
// write, which only puts the bytes.
func (s *Store) Import(ctx context.Context, b transfer.Batch) error {
	im := importer{s: s}
	for i, n := 0, b.Len(); i < n; i++ {
		if err := im.record(&b, i); err != nil {
			return fmt.Errorf("import %s %s: %w", b.Kind, b.Kind.Show(b.Key(i)), err)
		}
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		for _, p := range im.puts {
			bk := tx.Bucket(p.bucket)
			// Batches come in key order: fill pages as appends do.
			bk.FillPercent = appendFill
			if p.unique && bk.Get(p.key) != nil {
				return fmt.Errorf("%w: %s holds that key already", storage.ErrConflict, p.bucket)
			}
			if err := bk.Put(p.key, p.value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import %s: %w", b.Kind, err)
	}
	return nil
}

// importer gathers the puts of an import, encoded as the store's own
// writes encode them.
type importer struct {
	s    *Store
	puts []put
}

func (im *importer) put(bucket, key, value []byte, unique bool) {
	im.puts = append(im.puts, put{bucket, key, value, unique})
}

// encoded puts v, a disk record type, at key, which must be new.
func (im *importer) encoded(bucket, key []byte, v any) error {
	raw, err := encodeRecord(v)
	if err != nil {
		return err
	}
	im.put(bucket, key, raw, true)
	return nil
}

// versions puts the saved scripts of owner.
func (im *importer) versions(owner []byte, vs []storage.ScriptVersion) error {
	for _, v := range vs {
		if err := im.encoded(bucketVersions, versionKey(owner, v.Version), diskScriptVersion(v)); err != nil {
			return err
		}
	}
	return nil
}

// record gathers the puts of the i-th record of b.
func (im *importer) record(b *transfer.Batch, i int) error {
	id := b.Key(i)
	if id == "" {
		return fmt.Errorf("%w: an empty key", storage.ErrInvalid)
	}
	k, err := transferKey(b.Kind, id)
	if err != nil {
		return err
	}
	switch b.Kind {
	case transfer.Settings:
		v := bytes.Clone(b.Settings[i].Value)
		if v == nil {
			v = []byte{}
		}
		im.put(bucketSettings, k, v, true)
	case transfer.EventTypes:
		return im.encoded(bucketEventTypes, k, diskEventType(b.EventTypes[i]))
	case transfer.Users:
		u := b.Users[i]
		im.put(bucketUserNames, nameKey(u.Name), k, true)
		return im.encoded(bucketUsers, k, diskUser(u))
	case transfer.Tokens:
		t := b.Tokens[i]
		if len(t.Hash) == 0 {
			return fmt.Errorf("%w: a token without a hash", storage.ErrInvalid)
		}
		im.put(bucketTokenHashes, bytes.Clone(t.Hash), k, true)
		return im.encoded(bucketTokens, k, diskToken(t))
	case transfer.Sessions:
		r := diskSession(b.Sessions[i])
		im.put(bucketSessionExp, sessionExpKey(&r), nil, false)
		return im.encoded(bucketSessions, k, r)
	case transfer.Providers:
		p := &b.Providers[i]
		if err := im.versions(k, p.Versions); err != nil {
			return err
		}
		return im.encoded(bucketProviders, k, providerRecord{diskProvider: diskProvider(p.Provider), Sealed: im.s.sealSecrets(id, p.Secrets)})
	case transfer.Functions:
		f := &b.Functions[i]
		if err := im.versions(k, f.Versions); err != nil {
			return err
		}
		return im.encoded(bucketFunctions, k, diskFunction(f.Function))
	case transfer.Endpoints:
		return im.encoded(bucketEndpoints, k, im.s.sealEndpoint(b.Endpoints[i]))
	case transfer.Events:
		ev := &b.Events[i]
		return im.encoded(bucketEvents, k, eventRecord{diskEvent: diskEvent(ev.Event), Data: ev.DataJSON})
	case transfer.Deliveries:
		return im.delivery(&b.Deliveries[i], k)
	case transfer.Messages:
		im.message(&b.Messages[i], k)
	case transfer.Idempotency:
		r := &b.Idempotency[i]
		// As AppendEventOnce writes it: the record and its expiry index.
		im.put(bucketIdempotencyExp, append(expiryBytes(r.ExpiresAt), k...), nil, false)
		return im.encoded(bucketIdempotency, k, idempotencyRecord{BodyHash: r.BodyHash, EventID: r.EventID, Response: r.Response,
			CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()})
	case transfer.Seen:
		exp := expiryBytes(b.Seen[i].ExpiresAt)
		im.put(bucketSeen, k, exp, true)
		im.put(bucketSeenExp, append(bytes.Clone(exp), k...), nil, false)
	case transfer.Audit:
		return im.encoded(bucketAudit, k, diskAudit(b.Audit[i]))
	}
	return nil
}

// delivery gathers the puts of a delivery: the record (a callback's
// secrets sealed), its attempts, and its entries in the due index (when
// PENDING) and in its endpoint's.
func (im *importer) delivery(d *storage.DeliveryDetail, k []byte) error {
	if d.Status == storage.DeliveryPending && d.NextAt != nil {
		im.put(bucketDeliveryDue, dueKey(d.Lane, *d.NextAt, k), nil, false)
	}
	if d.EndpointID != "" {
		ep, err := transferKey(transfer.Endpoints, d.EndpointID)
		if err != nil {
			return err
		}
		im.put(bucketDeliveryByEndpoint, byEndpointKey(ep, k), nil, false)
	}
	for _, a := range d.Attempts {
		n := a.N
		a.N = 0 // the key holds the number
		if err := im.encoded(bucketAttempts, attemptKey(k, n), diskAttempt(a)); err != nil {
			return err
		}
	}
	return im.encoded(bucketDeliveries, k, im.s.sealDelivery(d.Delivery))
}

// message gathers the puts of a message: its metadata and body as
// AppendMessage writes them, and either its entry in the pending index
// or its outcome and details as CompleteMessage writes them.
func (im *importer) message(m *transfer.Message, k []byte) {
	meta := m.Message
	meta.Status = storage.StatusPending // the outcome, if any, is apart
	im.put(bucketMessages, k, appendMessageJSON(newRecord(1024), &meta), true)
	if m.Payload != nil {
		im.put(bucketPayloads, k, encodePayload(m.Payload), true)
	}
	if m.Status == storage.StatusPending {
		im.put(bucketPending, k, []byte{}, false)
		return
	}
	o := storage.Outcome{
		Status: m.Status, ProviderID: m.ProviderID, ProviderName: m.ProviderName, ProviderVersion: m.ProviderVersion,
		Summary: m.Summary, DurationMS: m.DurationMS,
	}
	if m.CompletedAt != nil {
		o.CompletedAt = *m.CompletedAt
	}
	rec := outcomeOf(&o)
	im.put(bucketOutcomes, k, rec.appendJSON(newRecord(256)), true)
	im.put(bucketDetails, k, appendDetailJSON(newRecord(512), m.Logs, m.Executions), true)
}
