package client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// MaxPage is the largest page the API answers.
const MaxPage = 500

// MaxListItems bounds what List gathers when asked for everything: far
// more providers, functions or endpoints than any server holds, so that
// a server whose pages never end cannot make the client grow without
// bound.
const MaxListItems = 200_000

// List reads the list at path (query q, which it changes) page by page,
// following next_cursor, and returns up to limit items (0: all of them,
// up to MaxListItems) and the cursor of what is left ("" when nothing
// is). A server that answers a cursor it gave before, or a page with no
// items but a cursor, is an error rather than a loop.
func List[T any](ctx context.Context, c *Client, path string, q url.Values, limit int) ([]T, string, error) {
	all := limit <= 0
	if all {
		limit = MaxListItems
	}
	if q == nil {
		q = url.Values{}
	}
	var items []T
	seen := map[string]bool{}
	for {
		q.Set("limit", strconv.Itoa(min(limit-len(items), MaxPage)))
		var page struct {
			Items      []T    `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if err := c.Get(ctx, path, q, &page); err != nil {
			return nil, "", err
		}
		items = append(items, page.Items...)
		next := page.NextCursor
		switch {
		case next == "":
			return items, "", nil
		case seen[next] || len(page.Items) == 0:
			return nil, "", fmt.Errorf("GET %s: the server's pages do not end (cursor %.40q again, or an empty page)", path, next)
		case len(items) >= limit && all:
			return nil, "", fmt.Errorf("GET %s: more than %d items; refusing to read on", path, MaxListItems)
		case len(items) >= limit:
			return items, next, nil
		}
		seen[next] = true
		q.Set("cursor", next)
	}
}
