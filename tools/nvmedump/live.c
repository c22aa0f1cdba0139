/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump -i: following a running drive's recorder ring (see live.h).
 *
 * Polling.  The ring has no wake-up: the drive must never make a system
 * call for a reader.  So the reader polls, adaptively, by how long the
 * ring has been quiet:
 *
 *   quiet < SPIN_NS    spin on the next slot's seq (a look every 1-2 us);
 *   quiet < YIELD_NS   sched_yield() between looks;
 *   then               sleep, 1 ms at first, doubling every BACKOFF_NS of
 *                      quiet up to a cap.
 *
 * The cap is what the ring allows: a burst that starts while nvmedump
 * sleeps must not lap it, so it sleeps at most a quarter of the time the
 * drive needs to fill the ring at the fastest rate seen so far (at least
 * ASSUMED_RATE events/s), and never more than MAX_SLEEP_NS.  The sleep is a
 * ppoll() on the control connection, so the drive's exit ends it too.
 */
#include "live.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/reactor.h"
#include "ctl/ctl.h"

#define SPIN_NS 20000ull             /* 20 us */
#define YIELD_NS 200000ull           /* 200 us */
#define MIN_SLEEP_NS 1000000ull      /* 1 ms */
#define MAX_SLEEP_NS 50000000ull     /* 50 ms */
#define BACKOFF_NS 100000000ull      /* double the sleep every 100 ms of quiet */
#define ASSUMED_RATE 200000ull       /* events/s before any burst was seen */
#define RATE_WINDOW_NS 10000000ull   /* measure the event rate over 10 ms */
#define ATTACH_TIMEOUT_MS 10000
/* Spinning, look at the next slot this often: each look takes its cache
 * line from the writer filling it, so not after every pause. */
#define SPIN_LOOKS 8
#define SPIN_PAUSES 32 /* between looks, about 1-2 us */

struct nvmedump_live {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int sock;               /* the control connection; -1 once closed */
	pid_t pid;              /* the drive (SO_PEERCRED), 0 if unknown */
	struct fdr_rec_reader *r;
	uint64_t start_seq;     /* where reading began */
	uint64_t lost_at_start;
	bool drive_closed;      /* the control connection ended */
	bool drive_gone;        /* ... and the process is gone */
	bool drained;           /* read to the end after that */
	/* Polling state. */
	uint64_t last_tell;     /* reader position at the last wait */
	uint64_t quiet_since;   /* CLOCK_MONOTONIC ns; 0: not quiet */
	uint64_t rate_t0, rate_head0;
	uint64_t peak_rate;     /* events/s */
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static void errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

void nvmedump_live_socket_path(const char *drive, char *buf, size_t len)
{
	if (!drive || !*drive)
		fdr_ctl_default_path(FDR_CTL_DEFAULT_PORT, buf, len);
	else if (all_digits(drive))
		fdr_ctl_default_path(drive, buf, len);
	else
		snprintf(buf, len, "%s", drive);
}

/* ---- Attaching ------------------------------------------------------------- */

static int connect_ctl(struct nvmedump_live *l, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int fd;

	if (strlen(l->path) >= sizeof(sa.sun_path)) {
		errf(err, errlen, "socket path too long (at most %zu bytes): %s",
		     sizeof(sa.sun_path) - 1, l->path);
		return -1;
	}
	memcpy(sa.sun_path, l->path, strlen(l->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		errf(err, errlen, "cannot connect to %s: %s%s", l->path, strerror(e),
		     e == ENOENT || e == ECONNREFUSED ? " (is frankendrive running?)"
		     : e == EACCES		       ? " (the socket is its owner's only)"
						       : "");
		close(fd);
		return -1;
	}
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl))
		l->pid = cred.pid;
	l->sock = fd;
	return 0;
}

/* The reply line to `record attach` and the descriptor that came with it
 * (*fd, -1 if none).  0, or -1 with a reason. */
static int recv_reply(struct nvmedump_live *l, char *line, size_t cap, int *fd, char *err,
		      size_t errlen)
{
	uint64_t deadline = fdr_now_ns() + ATTACH_TIMEOUT_MS * 1000000ull;
	size_t len = 0;

	*fd = -1;
	for (;;) {
		union {
			char buf[CMSG_SPACE(4 * sizeof(int))];
			struct cmsghdr align;
		} ctrl;
		struct iovec iov = {.iov_base = line + len, .iov_len = cap - 1 - len};
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctrl.buf,
			.msg_controllen = sizeof(ctrl.buf),
		};
		struct pollfd pfd = {.fd = l->sock, .events = POLLIN};
		uint64_t now = fdr_now_ns();
		ssize_t r;
		char *nl;

		if (now >= deadline) {
			errf(err, errlen, "%s: no reply to record attach within %d s", l->path,
			     ATTACH_TIMEOUT_MS / 1000);
			return -1;
		}
		r = poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1);
		if (r < 0 && errno != EINTR) {
			errf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (r <= 0)
			continue;
		r = recvmsg(l->sock, &mh, MSG_CMSG_CLOEXEC);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			errf(err, errlen, "reading from %s: %s", l->path, strerror(errno));
			return -1;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			size_t n;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < n; i++) {
				int f;

				memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (*fd < 0)
					*fd = f;
				else
					close(f); /* one is all we asked for */
			}
		}
		if (r == 0) {
			errf(err, errlen, "%s closed the connection without a reply", l->path);
			return -1;
		}
		nl = memchr(line + len, '\n', (size_t)r);
		len += (size_t)r;
		if (nl) {
			*nl = '\0';
			return 0;
		}
		if (len >= cap - 1) {
			errf(err, errlen, "%s: reply too long", l->path);
			return -1;
		}
	}
}

static uint64_t j_u64(struct json_object *j, const char *key, bool *found)
{
	struct json_object *v;

	if (!json_object_object_get_ex(j, key, &v) || !v) {
		if (found)
			*found = false;
		return 0;
	}
	if (found)
		*found = true;
	return json_object_get_uint64(v);
}

static int attach(struct nvmedump_live *l, bool from_oldest, char *err, size_t errlen)
{
	static const char req[] = "record attach\n";
	char line[8192];
	struct json_object *j = NULL, *ok, *e;
	uint64_t head, nr;
	bool have_head;
	int fd = -1, rc = -1;

	if (send(l->sock, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1)) {
		errf(err, errlen, "sending to %s: %s", l->path, strerror(errno));
		return -1;
	}
	if (recv_reply(l, line, sizeof(line), &fd, err, errlen))
		goto out;
	j = json_tokener_parse(line);
	if (!j || !json_object_object_get_ex(j, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean)) {
		errf(err, errlen, "%s sent something that is not a reply: %.200s", l->path, line);
		goto out;
	}
	if (!json_object_get_boolean(ok)) {
		errf(err, errlen, "%s: %s", l->path,
		     json_object_object_get_ex(j, "error", &e) ? json_object_get_string(e)
							      : "the drive refused");
		goto out;
	}
	if (fd < 0) {
		errf(err, errlen, "%s: the drive sent no descriptor with its reply", l->path);
		goto out;
	}
	l->r = fdr_rec_reader_open_fd(fd, l->path, err, errlen);
	if (!l->r)
		goto out;
	/* Start at the head as of the attach (what happened since is shown),
	 * or at the oldest event the ring still holds. */
	head = j_u64(j, "head", &have_head);
	if (!have_head || head > fdr_rec_reader_head(l->r))
		head = fdr_rec_reader_head(l->r);
	if (from_oldest) {
		head = fdr_rec_reader_head(l->r);
		nr = fdr_rec_reader_hdr(l->r)->nr_slots;
		head = head > nr ? head - nr : 0;
	}
	fdr_rec_reader_seek(l->r, head);
	l->start_seq = head;
	l->last_tell = head;
	l->lost_at_start = fdr_rec_reader_lost(l->r);
	rc = 0;
out:
	if (fd >= 0)
		close(fd); /* the mapping keeps the file */
	json_object_put(j);
	return rc;
}

struct nvmedump_live *nvmedump_live_open(const char *drive, bool from_oldest, char *err,
					 size_t errlen)
{
	struct nvmedump_live *l = calloc(1, sizeof(*l));
	const struct fdr_rec_file_hdr *h;
	char dev[sizeof(h->dev) + 1];

	if (!l) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	l->sock = -1;
	nvmedump_live_socket_path(drive, l->path, sizeof(l->path));
	if (connect_ctl(l, err, errlen) || attach(l, from_oldest, err, errlen)) {
		nvmedump_live_close(l);
		return NULL;
	}
	/* From here on the connection is only watched for its end. */
	fcntl(l->sock, F_SETFL, fcntl(l->sock, F_GETFL) | O_NONBLOCK);

	h = fdr_rec_reader_hdr(l->r);
	memcpy(dev, h->dev, sizeof(h->dev));
	dev[sizeof(h->dev)] = '\0';
	fprintf(stderr,
		"listening on %s (drive pid %ld): %s, %" PRIu64 " slots, snaplen %" PRIu32
		"%s, from seq %" PRIu64 " (%s)\n",
		l->path, (long)l->pid, dev[0] ? dev : "-", (uint64_t)h->nr_slots,
		(uint32_t)h->snaplen, (h->flags & FDR_REC_F_REDACT_ADDRS) ? ", addresses redacted" : "",
		l->start_seq, from_oldest ? "the oldest event in the ring" : "new events");
	return l;
}

struct fdr_rec_reader *nvmedump_live_reader(struct nvmedump_live *l)
{
	return l->r;
}

const char *nvmedump_live_path(const struct nvmedump_live *l)
{
	return l->path;
}

void nvmedump_live_close(struct nvmedump_live *l)
{
	if (!l)
		return;
	if (l->sock >= 0)
		close(l->sock);
	fdr_rec_reader_close(l->r);
	free(l);
}

/* ---- Following ------------------------------------------------------------- */

/* Is the drive's process gone (or a zombie)?  Unknown pid: yes. */
static bool process_gone(pid_t pid)
{
	char path[64], buf[256];
	const char *rp;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return true;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')'. */
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* The control connection: did it end? */
static void check_sock(struct nvmedump_live *l, short revents)
{
	char buf[512];
	ssize_t r;

	if (l->sock < 0 || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	for (;;) {
		r = recv(l->sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0)
			continue; /* nothing is expected; ignore it */
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break; /* EOF or error: the drive is going */
	}
	close(l->sock);
	l->sock = -1;
	l->drive_closed = true;
}

/* Track the event rate (for the sleep cap) from head, every RATE_WINDOW_NS. */
static void track_rate(struct nvmedump_live *l, uint64_t now)
{
	uint64_t head, dt;

	if (!l->rate_t0) {
		l->rate_t0 = now;
		l->rate_head0 = fdr_rec_reader_head(l->r);
		return;
	}
	dt = now - l->rate_t0;
	if (dt < RATE_WINDOW_NS)
		return;
	head = fdr_rec_reader_head(l->r);
	if (head > l->rate_head0) {
		uint64_t rate = (uint64_t)((double)(head - l->rate_head0) * 1e9 / (double)dt);

		if (rate > l->peak_rate)
			l->peak_rate = rate;
	}
	l->rate_t0 = now;
	l->rate_head0 = head;
}

static uint64_t sleep_cap(const struct nvmedump_live *l)
{
	uint64_t rate = l->peak_rate > ASSUMED_RATE ? l->peak_rate : ASSUMED_RATE;
	uint64_t nr = fdr_rec_reader_hdr(l->r)->nr_slots;
	double cap = (double)nr / 4.0 / (double)rate * 1e9;

	if (cap < (double)MIN_SLEEP_NS)
		return MIN_SLEEP_NS;
	if (cap > (double)MAX_SLEEP_NS)
		return MAX_SLEEP_NS;
	return (uint64_t)cap;
}

int nvmedump_live_wait(struct nvmedump_live *l, volatile sig_atomic_t *stop, FILE *out)
{
	uint64_t now = fdr_now_ns(), quiet, sleep_ns, tell = fdr_rec_reader_tell(l->r);
	struct timespec ts;

	track_rate(l, now);
	if (tell != l->last_tell || !l->quiet_since) {
		/* Events came since the last wait: a new quiet period. */
		l->last_tell = tell;
		l->quiet_since = now;
	}
	if (l->drained)
		return 0;
	if (l->drive_gone) {
		/* What the drive wrote is all there is, and next() has read
		 * it to the end (it returned 0 after writers_gone). */
		l->drained = true;
		return 0;
	}
	if (l->drive_closed && process_gone(l->pid)) {
		/* Slots the drive began and never finished are lost now
		 * rather than waited for; read the rest. */
		fdr_rec_reader_writers_gone(l->r);
		l->drive_gone = true;
		return 1;
	}
	quiet = now - l->quiet_since;
	if (quiet < SPIN_NS) {
		for (int i = 0; i < SPIN_LOOKS && !*stop; i++) {
			if (fdr_rec_reader_ready(l->r))
				return 1;
			for (int k = 0; k < SPIN_PAUSES; k++)
				cpu_relax();
		}
		return 1;
	}
	if (quiet < YIELD_NS) {
		sched_yield();
		return 1;
	}

	/* Quiet for a while: flush what was written, then sleep. */
	if (out && fflush(out) != 0)
		return -1;
	sleep_ns = MIN_SLEEP_NS;
	for (uint64_t t = quiet; t >= BACKOFF_NS && sleep_ns < MAX_SLEEP_NS; t -= BACKOFF_NS)
		sleep_ns *= 2;
	if (sleep_ns > sleep_cap(l))
		sleep_ns = sleep_cap(l);
	ts.tv_sec = (time_t)(sleep_ns / 1000000000ull);
	ts.tv_nsec = (long)(sleep_ns % 1000000000ull);
	if (*stop)
		return 1;
	if (l->sock >= 0) {
		struct pollfd pfd = {.fd = l->sock, .events = POLLIN};

		if (ppoll(&pfd, 1, &ts, NULL) > 0)
			check_sock(l, pfd.revents);
	} else {
		nanosleep(&ts, NULL); /* EINTR: fine, the caller checks stop */
	}
	return 1;
}

void nvmedump_live_summary(const struct nvmedump_live *l, FILE *f)
{
	uint64_t end = fdr_rec_reader_tell(l->r);
	uint64_t lost = fdr_rec_reader_lost(l->r) - l->lost_at_start;
	uint64_t n = end - l->start_seq;

	if (!n)
		fprintf(f, "live: no events from the drive (seq %" PRIu64 ")%s\n", l->start_seq,
			l->drive_closed ? ", drive exited" : "");
	else
		fprintf(f,
			"live: seq %" PRIu64 " to %" PRIu64 " followed: %" PRIu64
			" events read, %" PRIu64 " lost%s\n",
			l->start_seq, end - 1, n - lost, lost,
			l->drive_closed ? ", drive exited" : "");
}
