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

// Every field of every storage type comes back from the store. The disk
// types converted field by field (executions, endpoints, callbacks,
// deliveries) and the hand encoders are where a field added to a storage
// type could be forgotten; this is where it shows.
func TestEveryFieldStored(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "switchyard.db"), 7)
	defer s.Close()
	ctx := context.Background()

	p := filled[storage.Provider](t)
	got, err := s.CreateProvider(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	p.ID, p.Sequence, p.Version, p.CreatedAt, p.UpdatedAt = got.ID, got.Sequence, got.Version, got.CreatedAt, got.UpdatedAt // the store's
	gp, err := s.GetProvider(ctx, p.ID)
	same(t, "provider", gp, err, p)
	sv, err := s.GetScriptVersion(ctx, p.ID, 1)
	same(t, "script version", sv, err, storage.ScriptVersion{Version: 1, Script: p.MatchScript, SavedAt: p.CreatedAt})

	f := filled[storage.Function](t)
	f.ProviderID = p.ID
	gotF, err := s.CreateFunction(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	f.ID, f.Version, f.CreatedAt, f.UpdatedAt = gotF.ID, gotF.Version, gotF.CreatedAt, gotF.UpdatedAt
	gf, err := s.GetFunction(ctx, f.ID)
	same(t, "function", gf, err, f)

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
	if err := s.CompleteMessage(ctx, m.ID, o); err != nil {
		t.Fatal(err)
	}
	m.Status, m.ProviderID, m.ProviderName, m.ProviderVersion = o.Status, o.ProviderID, o.ProviderName, o.ProviderVersion
	m.Summary, m.CompletedAt, m.DurationMS = o.Summary, &o.CompletedAt, o.DurationMS
	gm, err := s.GetMessage(ctx, m.ID)
	same(t, "message", gm, err, storage.MessageDetail{Message: m, Logs: o.Logs, Executions: o.Executions})

	e := filled[storage.Endpoint](t)
	gotE, err := s.CreateEndpoint(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	e.ID, e.CreatedAt, e.UpdatedAt = gotE.ID, gotE.CreatedAt, gotE.UpdatedAt
	ge, err := s.GetEndpoint(ctx, e.ID)
	same(t, "endpoint", ge, err, e)

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

	u := filled[storage.User](t)
	gotU, err := s.CreateUser(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	u.ID, u.CreatedAt, u.UpdatedAt = gotU.ID, gotU.CreatedAt, gotU.UpdatedAt
	gu, err := s.GetUser(ctx, u.ID)
	same(t, "user", gu, err, u)

	tok := filled[storage.APIToken](t)
	tok.UserID = u.ID
	gotT, err := s.CreateToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	tok.ID, tok.CreatedAt = gotT.ID, gotT.CreatedAt
	gt, err := s.TokenByHash(ctx, tok.Hash)
	same(t, "token", gt, err, tok)

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
