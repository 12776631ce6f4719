package bolt

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

var fillTime = time.Date(2026, 5, 6, 7, 8, 9, 10, time.UTC)

// filled returns a T whose every exported field, nested ones included, is
// set: strings to their field's name, numbers to 7 or 1.5, booleans to
// true, times to fillTime, and each pointer, slice and map to one filled
// element.
func filled[T any](t *testing.T) T {
	t.Helper()
	var v T
	fill(t, reflect.ValueOf(&v).Elem(), reflect.TypeFor[T]().Name())
	return v
}

func fill(t *testing.T, v reflect.Value, name string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(name)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint8:
		v.SetUint(7)
	case reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Interface:
		v.Set(reflect.ValueOf(name)) // what JSON gives back for a string
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem(), name)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(t, s.Index(0), name)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, k, name)
		fill(t, e, name)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(fillTime))
			return
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fill(t, v.Field(i), f.Name)
			}
		}
	default:
		t.Fatalf("filled: a %s field (%s) needs a value here", v.Kind(), name)
	}
}

// storedAsGiven creates v, copies into it from the created value what the
// store sets (setByStore: ids, versions, times), and checks that get finds
// exactly that.
func storedAsGiven[T any](t *testing.T, what string, v T, create func(T) (T, error), setByStore func(v *T, created T), get func(T) (T, error)) T {
	t.Helper()
	created, err := create(v)
	if err != nil {
		t.Fatalf("create %s: %v", what, err)
	}
	setByStore(&v, created)
	got, err := get(v)
	same(t, what, got, err, v)
	return v
}

// Every field of every storage type comes back from the store. The disk
// types converted field by field (executions, endpoints, callbacks,
// deliveries) and the hand encoders are where a field added to a storage
// type could be forgotten; this is where it shows.
func TestEveryFieldStored(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "switchyard.db"), 7)
	defer s.Close()
	ctx := context.Background()

	p := storedAsGiven(t, "provider", filled[storage.Provider](t),
		func(p storage.Provider) (storage.Provider, error) { return s.CreateProvider(ctx, p) },
		func(p *storage.Provider, c storage.Provider) {
			p.ID, p.Sequence, p.Version, p.CreatedAt, p.UpdatedAt = c.ID, c.Sequence, c.Version, c.CreatedAt, c.UpdatedAt
		},
		func(p storage.Provider) (storage.Provider, error) { return s.GetProvider(ctx, p.ID) })
	sv, err := s.GetScriptVersion(ctx, p.ID, 1)
	same(t, "script version", sv, err, storage.ScriptVersion{Version: 1, Script: p.MatchScript, SavedAt: p.CreatedAt})

	f := filled[storage.Function](t)
	f.ProviderID = p.ID
	storedAsGiven(t, "function", f,
		func(f storage.Function) (storage.Function, error) { return s.CreateFunction(ctx, f) },
		func(f *storage.Function, c storage.Function) {
			f.ID, f.Version, f.CreatedAt, f.UpdatedAt = c.ID, c.Version, c.CreatedAt, c.UpdatedAt
		},
		func(f storage.Function) (storage.Function, error) { return s.GetFunction(ctx, f.ID) })

	m := filled[storage.Message](t)
	m.ID = storagetest.NewID(t, time.Now())
	payload := []byte("body")
	if err := s.AppendMessage(ctx, m, payload); err != nil {
		t.Fatal(err)
	}
	m.Size = len(payload)
	// The message record holds the request; the outcome comes apart.
	pending := m
	pending.Status, pending.ProviderID, pending.ProviderName, pending.ProviderVersion = storage.StatusPending, "", "", 0
	pending.Summary, pending.CompletedAt, pending.DurationMS = "", nil, 0
	pm, err := s.PendingMessages(ctx, "", 10)
	same(t, "pending message", pm, err, []storage.Message{pending})
	o := filled[storage.Outcome](t)
	o.Strip = false // an instruction to the store, not a field it keeps (the conformance suite's StripAndDropMessages checks it)
	if err := s.CompleteMessage(ctx, m.ID, o); err != nil {
		t.Fatal(err)
	}
	m.Status, m.ProviderID, m.ProviderName, m.ProviderVersion = o.Status, o.ProviderID, o.ProviderName, o.ProviderVersion
	m.Summary, m.CompletedAt, m.DurationMS = o.Summary, &o.CompletedAt, o.DurationMS
	gm, err := s.GetMessage(ctx, m.ID)
	same(t, "message", gm, err, storage.MessageDetail{Message: m, Logs: o.Logs, Executions: o.Executions})

	e := storedAsGiven(t, "endpoint", filled[storage.Endpoint](t),
		func(e storage.Endpoint) (storage.Endpoint, error) { return s.CreateEndpoint(ctx, e) },
		func(e *storage.Endpoint, c storage.Endpoint) {
			e.ID, e.CreatedAt, e.UpdatedAt = c.ID, c.CreatedAt, c.UpdatedAt
		},
		func(e storage.Endpoint) (storage.Endpoint, error) { return s.GetEndpoint(ctx, e.ID) })

	ev := filled[storage.Event](t)
	ev.ID = storagetest.NewID(t, time.Now())
	enc, err := storage.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	d := filled[storage.Delivery](t)
	d.ID, d.EventID, d.EndpointID, d.Status = storagetest.NewID(t, time.Now()), ev.ID, e.ID, storage.DeliveryPending
	if err := s.AppendEvent(ctx, enc, []storage.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	gev, err := s.GetEvent(ctx, ev.ID)
	same(t, "event", gev, err, enc)
	gd, err := s.GetDelivery(ctx, d.ID)
	same(t, "delivery", gd, err, storage.DeliveryDetail{Delivery: d, Attempts: []storage.Attempt{}})
	a := filled[storage.Attempt](t)
	if _, err := s.RecordAttempt(ctx, d.ID, a, storage.DeliveryUpdate{Status: storage.DeliveryFailed}); err != nil {
		t.Fatal(err)
	}
	a.N = d.AttemptCount + 1 // the key's
	gd, err = s.GetDelivery(ctx, d.ID)
	if err != nil || len(gd.Attempts) != 1 {
		t.Fatalf("attempts: %+v %v", gd.Attempts, err)
	}
	same(t, "attempt", gd.Attempts[0], nil, a)

	u := storedAsGiven(t, "user", filled[storage.User](t),
		func(u storage.User) (storage.User, error) { return s.CreateUser(ctx, u) },
		func(u *storage.User, c storage.User) { u.ID, u.CreatedAt, u.UpdatedAt = c.ID, c.CreatedAt, c.UpdatedAt },
		func(u storage.User) (storage.User, error) { return s.GetUser(ctx, u.ID) })

	tok := filled[storage.APIToken](t)
	tok.UserID = u.ID
	storedAsGiven(t, "token", tok,
		func(tok storage.APIToken) (storage.APIToken, error) { return s.CreateToken(ctx, tok) },
		func(tok *storage.APIToken, c storage.APIToken) { tok.ID, tok.CreatedAt = c.ID, c.CreatedAt },
		func(tok storage.APIToken) (storage.APIToken, error) { return s.TokenByHash(ctx, tok.Hash) })

	sess := filled[storage.Session](t)
	sess.UserID, sess.ExpiresAt = u.ID, time.Now().Add(time.Hour).UTC().Round(0)
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	gs, err := s.GetSession(ctx, sess.ID)
	same(t, "session", gs, err, sess)

	ae := filled[storage.AuditEntry](t)
	ae.ID = storagetest.NewID(t, time.Now())
	if err := s.AppendAudit(ctx, ae); err != nil {
		t.Fatal(err)
	}
	ga, _, err := s.ListAudit(ctx, storage.AuditFilter{})
	same(t, "audit", ga, err, []storage.AuditEntry{ae})
}
