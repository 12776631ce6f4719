package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// redisPublisher appends to a stream with XADD: a message counts once
// Redis answers the entry's id. The client keeps up to concurrency
// connections (a command holds its connection until the answer) and
// replaces broken ones itself.
type redisPublisher struct {
	d      Destination
	rc     *redis.Client
	closed atomic.Bool
}

func openRedis(ctx context.Context, d Destination, c Credentials, dial Dialer, concurrency int) (Publisher, error) {
	username := c.Username
	if username == "default" {
		username = "" // AUTH password alone logs in as default, on every version
	}
	rc := redis.NewClient(&redis.Options{
		Addr:     d.Addr,
		Username: username,
		Password: c.Password,
		DB:       d.DB,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dial(ctx, network, addr)
		},
		Protocol:              2,
		DisableIdentity:       true,
		MaxRetries:            -1, // the delivery's own retries apply
		PoolSize:              max(concurrency, 1),
		ContextTimeoutEnabled: true,
	})
	if err := rc.Ping(ctx).Err(); err != nil {
		rc.Close()
		return nil, fmt.Errorf("connecting: %w", redisError(err))
	}
	return &redisPublisher{d: d, rc: rc}, nil
}

func (p *redisPublisher) Publish(ctx context.Context, m Message) (string, error) {
	values := make([]any, 0, 2*len(m.Headers)+2)
	values = append(values, FieldBody, m.Body)
	for _, h := range m.Headers {
		values = append(values, h[0], h[1])
	}
	args := &redis.XAddArgs{Stream: p.d.Stream, Values: values}
	if p.d.MaxLen > 0 {
		args.MaxLen, args.Approx = p.d.MaxLen, true
	}
	id, err := p.rc.XAdd(ctx, args).Result()
	if err != nil {
		return "", fmt.Errorf("XADD: %w", redisError(err))
	}
	return "stream id " + id, nil
}

func (p *redisPublisher) Broken() bool { return p.closed.Load() }

func (p *redisPublisher) Close() error {
	p.closed.Store(true)
	err := p.rc.Close()
	if errors.Is(err, redis.ErrClosed) {
		return nil
	}
	return err
}

// redisError keeps a Redis error's own words.
func redisError(err error) error {
	var re redis.Error
	if errors.As(err, &re) {
		return errors.New(re.Error())
	}
	return err
}
