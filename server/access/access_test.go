package access

import (
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/storage"
)

func TestPasswords(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt?")
	}
	if !CheckPassword(h, "correct horse battery") || CheckPassword(h, "correct horse batterY") || CheckPassword(h, "") {
		t.Fatal("check")
	}
	for _, bad := range []string{"", "x", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", strings.Replace(h, "v=19", "v=16", 1),
		strings.Replace(h, "p=1", "p=0", 1), h[:len(h)-3] + "!!!"} {
		if CheckPassword(bad, "correct horse battery") {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
	if CheckPasswordPolicy("short") == nil || CheckPasswordPolicy("long enough pw") != nil {
		t.Fatal("policy")
	}
}

func TestRoles(t *testing.T) {
	want := map[string][]Permission{
		storage.RoleAdmin:    {Read, Operate, Edit, Admin},
		storage.RoleEditor:   {Read, Operate, Edit},
		storage.RoleOperator: {Read, Operate},
		storage.RoleViewer:   {Read},
	}
	for role, perms := range want {
		for _, p := range []Permission{Read, Operate, Edit, Admin} {
			has := false
			for _, q := range perms {
				has = has || q == p
			}
			if Allows(role, p) != has {
				t.Errorf("%s %s: %v", role, p, !has)
			}
		}
	}
	if Allows("root", Read) || ValidRole("root") || !ValidRole(storage.RoleViewer) {
		t.Fatal("unknown roles hold nothing")
	}
}

func TestTokensAndSessions(t *testing.T) {
	tok, hash, err := NewToken()
	if err != nil || !strings.HasPrefix(tok, TokenPrefix) || len(tok) < 40 || string(HashToken(tok)) != string(hash) {
		t.Fatalf("token %q: %v", tok, err)
	}
	cookie, id, csrf, err := NewSession()
	if err != nil || id != SessionID(cookie) || len(id) != 64 || csrf == "" || csrf == cookie {
		t.Fatalf("session: %v", err)
	}
	if !SameSecret(csrf, csrf) || SameSecret(csrf, cookie) {
		t.Fatal("SameSecret")
	}
}
