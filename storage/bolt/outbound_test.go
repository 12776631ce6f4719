package bolt

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/seal"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

func openTest(t *testing.T, path string, keyByte byte) *Store {
	t.Helper()
	sealer, err := seal.New(bytes.Repeat([]byte{keyByte}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, sealer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOutboundSecretsSealedAtRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchyard.db")
	s := openTest(t, path, 7)
	ctx := context.Background()
	secrets := []string{"endpoint-password-plain", "endpoint-token-plain", "whsec_signing-plain", "whsec_previous-plain", "callback-password-plain", "callback-token-plain",
		"callback-header-plain", "callback-cookie-plain",
		"proxy-pass-plain", "client-key-plain", "client-secret-plain"}
	e, err := s.CreateEndpoint(ctx, storage.Endpoint{
		Name: "CI", URL: "https://ci.example.com",
		Auth: storage.Auth{Type: "basic", Username: "bot", Password: secrets[0], Token: secrets[1],
			ClientSecret: secrets[len(secrets)-1]},
		SigningSecret:   secrets[2],
		PreviousSecrets: []storage.OldSecret{{Secret: secrets[3], Expires: time.Now().Add(time.Hour)}},
		Proxy:           "http://u@proxy.example.com", ProxyPassword: secrets[len(secrets)-3],
		TLS: storage.TLS{ClientCertPEM: "cert", ClientKeyPEM: secrets[len(secrets)-2]},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Rewrites keep the secrets sealed too.
	if _, err := s.SetEndpointHealth(ctx, e.ID, storage.EndpointHealth{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	d := storage.Delivery{
		ID: storagetest.NewID(t, now), Lane: "callback:x.example.com", CreatedAt: now,
		Callback: &storage.Callback{URL: "https://x.example.com", Auth: storage.Auth{Type: "basic", Password: secrets[4], Token: secrets[5]},
			Headers: map[string]string{"X-Auth-Token": secrets[6], "X-Trace": "t"}, Cookies: map[string]string{"sid": secrets[7]}},
	}
	if err := s.AppendEvent(ctx, storage.EncodedEvent{Event: storage.Event{ID: storagetest.NewID(t, now), Type: "t"}}, []storage.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	next := now.Add(time.Minute)
	if _, err := s.RecordAttempt(ctx, d.ID, storage.Attempt{At: now}, storage.DeliveryUpdate{Status: storage.DeliveryPending, NextAt: &next}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range secrets {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("secret %q stored in plain text", secret)
		}
	}

	s = openTest(t, path, 7)
	got, err := s.GetEndpoint(ctx, e.ID)
	if err != nil || got.Auth.Password != secrets[0] || got.Auth.Token != secrets[1] || got.SigningSecret != secrets[2] || got.PreviousSecrets[0].Secret != secrets[3] ||
		got.ProxyPassword != secrets[len(secrets)-3] || got.TLS.ClientKeyPEM != secrets[len(secrets)-2] || got.Auth.ClientSecret != secrets[len(secrets)-1] {
		t.Fatalf("endpoint after reopen: %+v %v", got, err)
	}
	due, err := s.DueDeliveries(ctx, next, func(string) int { return 10 }, nil)
	if err != nil || len(due) != 1 || due[0].Callback.Auth.Password != secrets[4] || due[0].Callback.Auth.Token != secrets[5] ||
		due[0].Callback.Headers["X-Auth-Token"] != secrets[6] || due[0].Callback.Headers["X-Trace"] != "t" || due[0].Callback.Cookies["sid"] != secrets[7] {
		t.Fatalf("due callback after reopen: %+v %v", due, err)
	}
	s.Close()

	// Under another key nothing opens.
	s = openTest(t, path, 8)
	defer s.Close()
	if _, err := s.GetEndpoint(ctx, e.ID); err == nil {
		t.Error("endpoint secrets opened with the wrong key")
	}
	if _, err := s.GetDelivery(ctx, d.ID); err == nil {
		t.Error("callback secrets opened with the wrong key")
	}
}

// TestPurgeLeavesNoIndexEntries checks what the interface cannot see: a
// purge removes every attempt and index entry of what it deletes.
func TestPurgeLeavesNoIndexEntries(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "switchyard.db"), 7)
	defer s.Close()
	ctx := context.Background()
	old := time.Now().Add(-48 * time.Hour)
	ep := storagetest.NewID(t, old)
	var ds []storage.Delivery
	for i := range 5 {
		at := old.Add(time.Duration(i) * time.Second)
		ds = append(ds, storage.Delivery{ID: storagetest.NewID(t, at), EndpointID: ep, Lane: ep, CreatedAt: at})
	}
	if err := s.AppendEvent(ctx, storage.EncodedEvent{Event: storage.Event{ID: storagetest.NewID(t, old)}}, ds); err != nil {
		t.Fatal(err)
	}
	for i, d := range ds {
		next := old.Add(time.Hour)
		u := storage.DeliveryUpdate{Status: storage.DeliveryPending, NextAt: &next}
		if i%2 == 0 {
			u = storage.DeliveryUpdate{Status: storage.DeliveryFailed}
		}
		if _, err := s.RecordAttempt(ctx, d.ID, storage.Attempt{At: old, Response: "r"}, u); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for {
		n, err := s.PurgeDeliveries(ctx, time.Now(), 2)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < 2 {
			break
		}
	}
	if total != 6 {
		t.Fatalf("purged %d records, want 6", total)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketEvents, bucketDeliveries, bucketAttempts, bucketDeliveryDue, bucketDeliveryByEndpoint} {
			if k, _ := tx.Bucket(name).Cursor().First(); k != nil {
				t.Errorf("bucket %s keeps %x after the purge", name, k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Header values named in secret_headers, and every cookie value, are
// sealed like the other secrets (issue 10, finding 7); an endpoint stored
// before that, with them in plain, still loads.
func TestEndpointSecretHeadersAndCookiesSealedAtRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchyard.db")
	s := openTest(t, path, 7)
	ctx := context.Background()
	e, err := s.CreateEndpoint(ctx, storage.Endpoint{
		Name: "AMMDS", URL: "https://ammds.example.com",
		Headers:       map[string]string{"Authorization": "Bearer header-token-plain", "X-Custom": "custom-key-plain", "X-Static": "visible"},
		SecretHeaders: []string{"X-Custom"}, // Authorization is sealed by its name
		Cookies:       map[string]string{"sid": "cookie-value-plain"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetEndpointHealth(ctx, e.ID, storage.EndpointHealth{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	// An endpoint as stored before secret_headers: headers and cookies in plain.
	oldID := storagetest.NewID(t, time.Now())
	old := []byte(`{"id":"` + oldID + `","name":"old","url":"https://old.example.com","method":"POST","enabled":true,` +
		`"headers":{"Authorization":"Bearer old-plain"},"cookies":{"c":"old-cookie"},"auth":{"type":""}}`)
	k, err := key(oldID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketEndpoints).Put(k, old) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"header-token-plain", "custom-key-plain", "cookie-value-plain"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("secret %q stored in plain text", secret)
		}
	}
	if !bytes.Contains(raw, []byte("visible")) {
		t.Error("a header that is not secret should stay readable in the record")
	}

	s = openTest(t, path, 7)
	defer s.Close()
	got, err := s.GetEndpoint(ctx, e.ID)
	if err != nil || got.Headers["Authorization"] != "Bearer header-token-plain" || got.Headers["X-Custom"] != "custom-key-plain" ||
		got.Headers["X-Static"] != "visible" || got.Cookies["sid"] != "cookie-value-plain" || len(got.SecretHeaders) != 1 {
		t.Fatalf("endpoint after reopen: %+v %v", got, err)
	}
	prev, err := s.GetEndpoint(ctx, oldID)
	if err != nil || prev.Headers["Authorization"] != "Bearer old-plain" || prev.Cookies["c"] != "old-cookie" {
		t.Fatalf("old endpoint: %+v %v", prev, err)
	}
	// Saved again, the old endpoint's cookie is sealed too.
	if _, err := s.UpdateEndpoint(ctx, prev); err != nil {
		t.Fatal(err)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		rec := tx.Bucket(bucketEndpoints).Get(k)
		if bytes.Contains(rec, []byte("old-cookie")) || bytes.Contains(rec, []byte("old-plain")) {
			t.Errorf("the old endpoint's cookie or Authorization stays in plain after an update: %s", rec)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
