/*
 * store-bench: load for bench/store/run. Each of --clients threads writes
 * --writes/clients single-row transactions, one after the other, then reads
 * --reads/clients rows back by key; prints one JSON line with the rates and
 * latencies. Targets:
 *
 *   sqlite:PATH, dqlite://h:p,.../db   through libdcos' store client
 *                                      (blocking calls, one store per thread)
 *   etcd://host:port                   etcd's v3 API through its JSON gateway
 *                                      (libcurl, one kept-alive connection
 *                                      per thread); a put is a write
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* --- etcd v3 over its JSON gateway --- */

static void
b64(const char *in, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/";
	size_t n = strlen(in), o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;

		v |= i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned char)in[i + 2] : 0;
		out[o++] = t[(v >> 18) & 63];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = '\0';
}

struct reply {
	char buf[65536];
	size_t len;
};

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n, room = sizeof(r->buf) - 1 - r->len;

	memcpy(r->buf + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	r->buf[r->len] = '\0';
	return len;
}

static int
etcd_call(CURL *c, const char *base, const char *path, const char *body,
    struct reply *r)
{
	char url[256];
	long status = 0;

	snprintf(url, sizeof(url), "%s%s", base, path);
	r->len = 0;
	r->buf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) != CURLE_OK)
		return -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status == 200 ? 0 : -1;
}

static void
run_etcd(struct worker *w, const char *value)
{
	char base[256], key[64], k64[128], *v64, *body;
	CURL *c = curl_easy_init();
	struct reply *r = malloc(sizeof(*r));
	size_t vlen = strlen(value);

	v64 = malloc(vlen * 2 + 8);
	body = malloc(vlen * 2 + 256);
	if (!c || !r || !v64 || !body)
		abort();
	snprintf(base, sizeof(base), "http://%s", w->b->target + strlen("etcd://"));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	b64(value, v64);
	pthread_barrier_wait(&w->b->phase);
	for (long i = 0; i < w->nw; i++) {
		double t0 = now();

		snprintf(key, sizeof(key), "c%d-%ld", w->id, i);
		b64(key, k64);
		snprintf(body, vlen * 2 + 256, "{\"key\":\"%s\",\"value\":\"%s\"}",
		    k64, v64);
		if (etcd_call(c, base, "/v3/kv/put", body, r) == -1)
			note_error(w, "put failed");
		w->wlat[i] = (now() - t0) * 1000;
	}
	pthread_barrier_wait(&w->b->phase);
	for (long i = 0; i < w->nr; i++) {
		double t0 = now();

		snprintf(key, sizeof(key), "c%d-%ld", w->id, w->nw ? i % w->nw : 0);
		b64(key, k64);
		snprintf(body, vlen * 2 + 256, "{\"key\":\"%s\"}", k64);
		if (etcd_call(c, base, "/v3/kv/range", body, r) == -1)
			note_error(w, "range failed");
		else if (w->nw && strstr(r->buf, v64) == NULL)
			note_error(w, "a written key was not read back");
		w->rlat[i] = (now() - t0) * 1000;
	}
	pthread_barrier_wait(&w->b->phase);
	curl_easy_cleanup(c);
	free(r);
	free(v64);
	free(body);
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
