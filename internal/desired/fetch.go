package desired

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/baosync/baosync/api/v1alpha1"
	"github.com/baosync/baosync/internal/outcome"
	"github.com/baosync/baosync/providers"
)

// fetch reads every dataFrom and data entry through the client of its store
// (spec.secretStoreRef, or the entry's sourceRef.storeRef). Later dataFrom
// entries win over earlier ones, and data wins over dataFrom. It fails with the
// Reason of the first failing entry, and with ErrRemoteGone when no referenced
// secret exists any more. It records in res the stores it resolved and the
// generated status it kept.
func (b *Builder) fetch(ctx context.Context, store v1alpha1.GenericStore, es *v1alpha1.ExternalSecret, maxAge time.Duration, res *Result) (map[string][]byte, error) {
	stores := newStores(b, es, store)
	defer stores.close(ctx)
	res.Stores = stores

	values := map[string][]byte{}
	t := &tally{}
	note := t.note
	gen := &generatorRun{b: b, es: es}
	for i, df := range es.Spec.DataFrom {
		m, err := dataFromEntry(ctx, stores, gen, i, df, maxAge)
		note(wrapEntry(err, fmt.Sprintf("dataFrom[%d]%s", i, fromStore(df.StoreRef()))))
		for k, v := range m {
			values[k] = v
		}
	}
	for i, d := range es.Spec.Data {
		entry := fmt.Sprintf("data[%d] (secretKey %q%s)", i, d.SecretKey, fromStore(d.StoreRef()))
		sc, err := stores.get(ctx, d.StoreRef())
		if err != nil {
			note(outcome.Within(entry, err))
			continue
		}
		v, err := getOne(ctx, sc, d.RemoteRef, maxAge)
		note(wrapEntry(err, entry))
		if err == nil {
			values[d.SecretKey] = v
		}
	}
	if err := gen.finish(ctx, res); err != nil {
		t.fail(err)
	}
	res.ReadAt = b.now()
	res.ThrottledOnly = t.throttledOnly()
	switch {
	case t.first == nil:
		return values, nil
	case t.missing == t.total:
		return nil, fmt.Errorf("%w: %w", ErrRemoteGone, outcome.FromProvider(t.first))
	}
	return nil, outcome.FromProvider(t.first)
}

// tally counts the outcomes of a build's entries.
type tally struct {
	first          error // the first failure, whose Reason the build fails with
	missing, total int   // entries whose remote secret is gone, and all entries
	other          bool  // a failure other than a wait for a store's budget (providers.ErrThrottled)
}

// note counts one entry's outcome.
func (t *tally) note(err error) {
	t.total++
	if errors.Is(err, providers.ErrNotFound) {
		t.missing++
	}
	if err != nil {
		t.fail(err)
	}
}

// throttledOnly reports failures that all waited for a store's budget.
func (t *tally) throttledOnly() bool { return t.first != nil && !t.other }

// fail counts a failure that is not an entry's (the generators' state).
func (t *tally) fail(err error) {
	if t.first == nil {
		t.first = err
	}
	t.other = t.other || !errors.Is(err, providers.ErrThrottled)
}

// dataFromEntry reads one dataFrom entry from its generator or its store. A
// store that cannot be used fails with the entry's name in the message.
func dataFromEntry(ctx context.Context, stores *Stores, gen *generatorRun, i int, df v1alpha1.ExternalSecretDataFromRemoteRef, maxAge time.Duration) (map[string][]byte, error) {
	if df.Generated() {
		return gen.values(ctx, i, df)
	}
	sc, err := stores.get(ctx, df.StoreRef())
	if err != nil {
		return nil, outcome.Within(fmt.Sprintf("dataFrom[%d]%s", i, fromStore(df.StoreRef())), err)
	}
	return dataFrom(ctx, sc, df, maxAge)
}

// dataFrom reads one dataFrom entry (extract or find) and applies its rewrite.
func dataFrom(ctx context.Context, sc providers.SecretsClient, df v1alpha1.ExternalSecretDataFromRemoteRef, maxAge time.Duration) (map[string][]byte, error) {
	var m map[string][]byte
	var err error
	switch {
	case df.Extract != nil:
		m, err = extract(ctx, sc, df.Extract, maxAge)
		if err == nil && len(df.Rewrite) == 0 {
			m, err = extractedKeys(m, df.Extract.ConversionStrategy)
		}
	case df.Find != nil:
		m, err = find(ctx, sc, df.Find, maxAge)
	}
	if err != nil {
		return nil, err
	}
	return rewrite(m, df.Rewrite)
}

// wrapEntry names the spec entry an error came from.
func wrapEntry(err error, entry string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", entry, err)
}

// getOne reads and decodes one value.
func getOne(ctx context.Context, sc providers.SecretsClient, ref v1alpha1.ExternalSecretDataRemoteRef, maxAge time.Duration) ([]byte, error) {
	v, err := sc.GetSecret(ctx, remoteRef(ref, maxAge))
	if err != nil {
		return nil, err
	}
	if v, err = decode(v, ref.DecodingStrategy); err != nil {
		return nil, err
	}
	return v, checkNullBytes(v, ref.NullBytePolicy)
}

// checkNullBytes applies nullBytePolicy Fail to a decoded value. Its error
// gives the position, never the value.
func checkNullBytes(v []byte, policy string) error {
	if i := bytes.IndexByte(v, 0); i >= 0 && policy == "Fail" {
		return outcome.Waitingf(v1alpha1.ReasonDecodingFailed, 0,
			"value holds a NUL byte at offset %d of %d and nullBytePolicy is Fail; fix the value or set nullBytePolicy Ignore", i, len(v))
	}
	return nil
}

// extract reads and decodes every property of a remote secret.
func extract(ctx context.Context, sc providers.SecretsClient, ref *v1alpha1.ExternalSecretDataRemoteRef, maxAge time.Duration) (map[string][]byte, error) {
	m, err := sc.GetSecretMap(ctx, remoteRef(*ref, maxAge))
	if err != nil {
		return nil, err
	}
	for k, v := range m {
		d, err := decode(v, ref.DecodingStrategy)
		if err == nil {
			err = checkNullBytes(d, ref.NullBytePolicy)
		}
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", k, err)
		}
		m[k] = d
	}
	return m, nil
}

func remoteRef(ref v1alpha1.ExternalSecretDataRemoteRef, maxAge time.Duration) providers.RemoteRef {
	return providers.RemoteRef{Key: ref.Key, Property: ref.Property, Version: ref.Version,
		Metadata: ref.MetadataPolicy == "Fetch", MaxAge: maxAge}
}

// decode applies a decodingStrategy. Its errors never include the value.
func decode(v []byte, strategy v1alpha1.DecodingStrategy) ([]byte, error) {
	switch strategy {
	case v1alpha1.DecodingStrategyBase64:
		return decodeWith(base64.StdEncoding, v, "Base64")
	case v1alpha1.DecodingStrategyBase64URL:
		return decodeWith(base64.URLEncoding, v, "Base64URL")
	case v1alpha1.DecodingStrategyAuto:
		if d, err := decodeWith(base64.StdEncoding, v, ""); err == nil {
			return d, nil
		}
		if d, err := decodeWith(base64.URLEncoding, v, ""); err == nil {
			return d, nil
		}
		return v, nil
	}
	return v, nil
}

func decodeWith(enc *base64.Encoding, v []byte, name string) ([]byte, error) {
	out := make([]byte, enc.DecodedLen(len(v)))
	n, err := enc.Decode(out, v)
	if err != nil {
		return nil, outcome.Waitingf(v1alpha1.ReasonDecodingFailed, 0,
			"value is not valid %s (%d bytes; %v); fix the value or the decodingStrategy", name, len(v), err)
	}
	return out[:n], nil
}
