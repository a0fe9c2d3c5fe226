/*
 * store-bench: load for bench/store/run. Each of --clients threads writes
 * --writes/clients single-row transactions, one after the other, then reads
 * --reads/clients rows back by key; prints one JSON line with the rates and
 * latencies. Targets:
 *
 *   sqlite:PATH, dqlite://h:p,.../db   through libdcos' store client
 *                                      (blocking calls, one store per thread)
 *   etcd://host:port                   etcd's v3 gRPC API (libcurl HTTP/2
 *                                      over TLS, one connection per thread,
 *                                      protobuf by hand); a Put is a write,
 *                                      a Range (linearizable, etcd's
 *                                      default) a read
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "dcos/flags.h"
#include "dcos/log.h"
#include "dcos/store.h"

struct bench {
	const char *target;
	long long clients, writes, reads, value_size;
	int etcd;
	pthread_barrier_t phase; /* clients + main: start, writes done, reads done */
};

struct worker {
	struct bench *b;
	int id;
	double *wlat, *rlat; /* milliseconds */
	long nw, nr, errors;
	char first_error[256];
	pthread_t thread;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
note_error(struct worker *w, const char *what)
{
	if (w->errors++ == 0)
		snprintf(w->first_error, sizeof(w->first_error), "%s", what);
}

/* --- libdcos store --- */

static void
run_store(struct worker *w, char *value)
{
	struct store_err err;
	struct store *s = store_open(w->b->target, &err);
	char key[64];
	const char *kp = key;

	if (s == NULL || store_exec(s, "CREATE TABLE IF NOT EXISTS bench_kv (k "
	    "TEXT PRIMARY KEY, v TEXT NOT NULL)", NULL, 0, NULL, &err)) {
		note_error(w, err.msg);
		w->nw = w->nr = 0;
	}
	pthread_barrier_wait(&w->b->phase);
	for (long i = 0; i < w->nw; i++) {
		struct store_val v[2] = { SV_TEXT(kp), SV_TEXT(value) };
		double t0 = now();

		snprintf(key, sizeof(key), "c%d-%ld", w->id, i);
		if (store_exec(s, "INSERT OR REPLACE INTO bench_kv (k, v) VALUES "
		    "(?, ?)", v, 2, NULL, &err) != STORE_OK)
			note_error(w, err.msg);
		w->wlat[i] = (now() - t0) * 1000;
	}
	pthread_barrier_wait(&w->b->phase);
	for (long i = 0; i < w->nr; i++) {
		struct store_val k = SV_TEXT(kp);
		struct store_rows *rows;
		double t0 = now();

		snprintf(key, sizeof(key), "c%d-%ld", w->id, w->nw ? i % w->nw : 0);
		if (store_query(s, "SELECT v FROM bench_kv WHERE k = ?", &k, 1,
		    &rows, &err) != STORE_OK)
			note_error(w, err.msg);
		else if (rows->nrows != 1 && w->nw)
			note_error(w, "a written key was not read back");
		else
			store_rows_free(rows);
		w->rlat[i] = (now() - t0) * 1000;
	}
	pthread_barrier_wait(&w->b->phase);
	store_close(s);
}

/* --- etcd v3 over gRPC: HTTP/2 over TLS, protobuf encoded by hand --- */

struct reply {
	char buf[65536];
	size_t len;
	int grpc_status;
};

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n, room = sizeof(r->buf) - r->len;

	memcpy(r->buf + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	return len;
}

/* gRPC's status comes in the trailers, which libcurl hands to this too */
static size_t
header(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;

	if (size * n > 12 && strncasecmp(p, "grpc-status:", 12) == 0)
		r->grpc_status = atoi(p + 12);
	return size * n;
}

/* protobuf: a length-delimited field */
static size_t
pb_bytes(uint8_t *out, int field, const char *data, size_t len)
{
	size_t o = 0;

	out[o++] = (uint8_t)(field << 3 | 2);
	do {
		out[o++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
		len >>= 7;
	} while (len);
	return o;
}

static int
grpc_call(CURL *c, const char *base, const char *method, uint8_t *msg,
    size_t len, struct reply *r)
{
	char url[256];
	long status = 0;

	/* the gRPC frame: not compressed, 4-byte big-endian length */
	msg[0] = 0;
	msg[1] = (uint8_t)(len >> 24);
	msg[2] = (uint8_t)(len >> 16);
	msg[3] = (uint8_t)(len >> 8);
	msg[4] = (uint8_t)len;
	snprintf(url, sizeof(url), "%s/etcdserverpb.KV/%s", base, method);
	r->len = 0;
	r->grpc_status = -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, msg);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(len + 5));
	if (curl_easy_perform(c) != CURLE_OK)
		return -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status == 200 && r->grpc_status == 0 ? 0 : -1;
}

static void
run_etcd(struct worker *w, const char *value)
{
	char base[256], key[64];
	size_t vlen = strlen(value);
	uint8_t *msg = malloc(vlen + 128);
	struct reply *r = malloc(sizeof(*r));
	struct curl_slist *hdrs = NULL;
	CURL *c = curl_easy_init();

	if (!c || !r || !msg)
		abort();
	/* TLS, because libcurl 7.88 cannot reuse a cleartext (h2c) HTTP/2
	 * connection; the bench's etcd has a throwaway certificate */
	snprintf(base, sizeof(base), "https://%s", w->b->target +
	    strlen("etcd://"));
	hdrs = curl_slist_append(hdrs, "Content-Type: application/grpc");
	hdrs = curl_slist_append(hdrs, "TE: trailers");
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	pthread_barrier_wait(&w->b->phase);
	for (long i = 0; i < w->nw; i++) {
		double t0 = now();
		size_t n = 5, klen;

		klen = (size_t)snprintf(key, sizeof(key), "c%d-%ld", w->id, i);
		n += pb_bytes(msg + n, 1, key, klen);
		memcpy(msg + n, key, klen);
		n += klen;
		n += pb_bytes(msg + n, 2, value, vlen);
		memcpy(msg + n, value, vlen);
		n += vlen;
		if (grpc_call(c, base, "Put", msg, n - 5, r) == -1)
			note_error(w, "put failed");
		w->wlat[i] = (now() - t0) * 1000;
	}
	pthread_barrier_wait(&w->b->phase);
	for (long i = 0; i < w->nr; i++) {
		double t0 = now();
		size_t n = 5, klen;

		klen = (size_t)snprintf(key, sizeof(key), "c%d-%ld", w->id,
		    w->nw ? i % w->nw : 0);
		n += pb_bytes(msg + n, 1, key, klen);
		memcpy(msg + n, key, klen);
		n += klen;
		if (grpc_call(c, base, "Range", msg, n - 5, r) == -1)
			note_error(w, "range failed");
		else if (w->nw && memmem(r->buf, r->len, value, vlen) == NULL)
			note_error(w, "a written key was not read back");
		w->rlat[i] = (now() - t0) * 1000;
	}
	pthread_barrier_wait(&w->b->phase);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(r);
	free(msg);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char *value = malloc((size_t)w->b->value_size + 1);

	if (value == NULL)
		abort();
	for (long long i = 0; i < w->b->value_size; i++)
		value[i] = "0123456789abcdef"[(i * 7 + w->id) % 16];
	value[w->b->value_size] = '\0';
	if (w->b->etcd)
		run_etcd(w, value);
	else
		run_store(w, value);
	free(value);
	return NULL;
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
percentile(double *v, long n, double p)
{
	if (n == 0)
		return 0;
	return v[(long)fmin((double)n - 1, floor(p * (double)n))];
}

/* Prints rate and latencies of one phase. */
static void
report(const char *name, double *all, long n, double secs, int last)
{
	qsort(all, (size_t)n, sizeof(*all), by_value);
	printf("\"%s_per_s\":%.1f,\"%s_p50_ms\":%.3f,\"%s_p99_ms\":%.3f%s", name,
	    secs > 0 ? (double)n / secs : 0, name, percentile(all, n, 0.50), name,
	    percentile(all, n, 0.99), last ? "" : ",");
}

int
main(int argc, char **argv)
{
	struct bench b = { 0 };
	const struct flag flags[] = {
		{ "target", FLAG_STR, &b.target, NULL, "sqlite:PATH, dqlite://... "
		    "or etcd://host:port" },
		{ "clients", FLAG_INT, &b.clients, "1", "concurrent clients" },
		{ "writes", FLAG_INT, &b.writes, "2000", "write transactions in all" },
		{ "reads", FLAG_INT, &b.reads, "5000", "reads in all" },
		{ "value_size", FLAG_INT, &b.value_size, "100", "bytes per value" },
	};
	const struct flags_spec spec = { "store-bench", "Load for bench/store.",
		"STORE_BENCH_", flags, sizeof(flags) / sizeof(flags[0]) };
	struct worker *w;
	double t0, tw, tr, *wall, *rall;
	long nw = 0, nr = 0, errors = 0;
	const char *first = "";

	flags_parse_or_exit(&spec, argc, argv);
	if (b.target == NULL || b.clients < 1 || b.clients > 256 ||
	    b.writes < 0 || b.reads < 0 || b.value_size < 1) {
		fprintf(stderr, "store-bench: need --target, 1-256 clients and "
		    "non-negative counts\n");
		return 2;
	}
	log_init("store-bench", LOG_LVL_WARN);
	b.etcd = strncmp(b.target, "etcd://", 7) == 0;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	w = calloc((size_t)b.clients, sizeof(*w));
	wall = calloc((size_t)b.writes + 1, sizeof(double));
	rall = calloc((size_t)b.reads + 1, sizeof(double));
	if (!w || !wall || !rall)
		abort();
	for (int i = 0; i < b.clients; i++) {
		w[i].b = &b;
		w[i].id = i;
		w[i].nw = (long)(b.writes / b.clients);
		w[i].nr = (long)(b.reads / b.clients);
		w[i].wlat = wall + nw;
		w[i].rlat = rall + nr;
		nw += w[i].nw;
		nr += w[i].nr;
	}
	/* writes and reads are timed as separate phases */
	pthread_barrier_init(&b.phase, NULL, (unsigned)b.clients + 1);
	for (int i = 0; i < b.clients; i++)
		pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
	pthread_barrier_wait(&b.phase);
	t0 = now();
	pthread_barrier_wait(&b.phase);
	tw = now() - t0;
	t0 = now();
	pthread_barrier_wait(&b.phase);
	tr = now() - t0;
	for (int i = 0; i < b.clients; i++)
		pthread_join(w[i].thread, NULL);
	pthread_barrier_destroy(&b.phase);
	for (int i = 0; i < b.clients; i++) {
		errors += w[i].errors;
		if (!first[0] && w[i].errors)
			first = w[i].first_error;
	}
	printf("{\"target\":\"%s\",\"clients\":%lld,\"writes\":%ld,\"reads\":%ld,"
	    "\"errors\":%ld,\"first_error\":\"%s\",", b.target, b.clients, nw, nr,
	    errors, first);
	report("writes", wall, nw, tw, 0);
	report("reads", rall, nr, tr, 1);
	printf("}\n");
	free(w);
	free(wall);
	free(rall);
	curl_global_cleanup();
	return errors ? 1 : 0;
}
