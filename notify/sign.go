package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks signing (https://www.standardwebhooks.com): the
// signature of a request is base64(HMAC-SHA256(key, id "." timestamp "."
// body)), sent as "v1,<signature>"; during a secret rotation one such
// value per active secret, separated by spaces.
func signature(keys [][]byte, id string, ts time.Time, body []byte) string {
	var sb strings.Builder
	unix := strconv.FormatInt(ts.Unix(), 10)
	for i, k := range keys {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(unix))
		mac.Write([]byte{'.'})
		mac.Write(body)
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString("v1,")
		sb.WriteString(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return sb.String()
}

// robotSign is the {{sign}} of chat robots that sign a timestamp
// (DingTalk): base64(HMAC-SHA256(secret, timestampMillis "\n" secret)).
// The template's URL mode escapes it for a query string.
func robotSign(secret string, timestampMillis string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestampMillis + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
