// Package storagetest is the conformance suite every storage backend runs:
// the same test bodies against bolt today and postgres later.
package storagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/switchyard-dev/switchyard/storage"
)

// Opener opens a fresh, empty store for one test; the suite closes it.
type Opener func(t *testing.T) storage.Store

// Run runs the whole suite against the backend that open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"ProviderCRUD", testProviderCRUD},
		{"ProviderSecrets", testProviderSecrets},
		{"ProviderOrder", testProviderOrder},
		{"FunctionCRUD", testFunctionCRUD},
		{"DeleteProviderInUse", testDeleteProviderInUse},
		{"MessageLifecycle", testMessageLifecycle},
		{"ListMessagesFiltersAndPages", testListMessages},
		{"PendingMessages", testPendingMessages},
		{"PurgeMessages", testPurge},
		{"ConcurrentAppends", testConcurrentAppends},
		{"NotFound", testNotFound},
		{"ScriptVersions", testScriptVersions},
		{"FirstSeen", testFirstSeen},
		{"PurgeSeen", testPurgeSeen},
		{"EndpointCRUD", testEndpointCRUD},
		{"AppendEvent", testAppendEvent},
		{"DueDeliveries", testDueDeliveries},
		{"RecordAttempt", testRecordAttempt},
		{"Replay", testReplay},
		{"ListDeliveries", testListDeliveries},
		{"PurgeDeliveries", testPurgeDeliveries},
		{"Settings", testSettings},
		{"ConcurrentAttempts", testConcurrentAttempts},
		{"UserCRUD", testUserCRUD},
		{"UserNames", testUserNames},
		{"Tokens", testTokens},
		{"Sessions", testSessions},
		{"SessionsOfUser", testSessionsOfUser},
		{"RecordLogin", testRecordLogin},
		{"PurgeSessions", testPurgeSessions},
		{"DeleteUserCascades", testDeleteUserCascades},
		{"Audit", testAudit},
		{"PurgeAudit", testPurgeAudit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() { s.Close() })
			defer func() {
				if r := recover(); r != nil {
					f, ok := r.(failure)
					if !ok {
						panic(r)
					}
					t.Fatalf("unexpected error: %v", f.err)
				}
			}()
			tc.fn(t, s)
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

// failure carries an unexpected error from must/check to the test's
// recover in Run, which fails the test with it.
type failure struct{ err error }

func must[T any](v T, err error) T {
	check(err)
	return v
}

func check(err error) {
	if err != nil {
		panic(failure{err})
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: want %v, got %v", what, want, err)
	}
}
