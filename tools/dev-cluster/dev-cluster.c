/* dev-cluster: a Kafka-protocol cluster on loopback (librdkafka's mock) for tests and `lakegate dev`.
 * Prints one `BOOTSTRAP host:port,...` line, then answers every stdin command with one `OK`/`ERR` line.
 * Built by build.sh against a static librdkafka (see there) with DEV_CLUSTER_MOCK naming the mock's patches. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#ifndef DEV_CLUSTER_MOCK
#define DEV_CLUSTER_MOCK "unpatched"
#endif

static rd_kafka_mock_cluster_t *mc;
static int replication;
static volatile sig_atomic_t stopping;

/* Closing stdin makes a pending or upcoming fgets() fail, so the main loop ends
 * even if the signal lands between its checks; close() is async-signal-safe. */
static void on_signal(int sig) {
        (void)sig;
        stopping = 1;
        close(STDIN_FILENO);
}

/* Parses a whole decimal token; partial numbers such as "3x" are rejected. */
static int parse_int(const char *s, long *out) {
        char *end;
        if (!s) return 0;
        errno = 0;
        *out  = strtol(s, &end, 10);
        return errno == 0 && end != s && *end == '\0';
}

/* Runs one command line; returns NULL on success or an error text; `version` sets *version to its reply. */
static const char *run(char *line, int *quit, const char **version) {
        static char reason[256];
        char *argv[5] = {0};
        int argc = 0;
        long a, b, c;
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        for (char *tok = strtok(line, " \t"); tok && argc < 5; tok = strtok(NULL, " \t"))
                argv[argc++] = tok;
        const char *cmd = argv[0];

        if (!strcmp(cmd, "quit") && argc == 1)
                *quit = 1;
        else if (!strcmp(cmd, "version") && argc == 1) {
                /* Which mock this is: the library actually linked, and build.sh's patches. */
                static char text[256];
                snprintf(text, sizeof text, "version librdkafka %s; mock %s", rd_kafka_version_str(), DEV_CLUSTER_MOCK);
                *version = text;
        } else if (!strcmp(cmd, "topic") && argc == 3 && parse_int(argv[2], &a) && a > 0)
                err = rd_kafka_mock_topic_create(mc, argv[1], (int)a, replication);
        else if (!strcmp(cmd, "down") && argc == 2 && parse_int(argv[1], &a))
                err = rd_kafka_mock_broker_set_down(mc, (int32_t)a);
        else if (!strcmp(cmd, "up") && argc == 2 && parse_int(argv[1], &a))
                err = rd_kafka_mock_broker_set_up(mc, (int32_t)a);
        else if (!strcmp(cmd, "rtt") && argc == 3 && parse_int(argv[1], &a) && parse_int(argv[2], &b) && b >= 0)
                err = rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b);
        else if (!strcmp(cmd, "leader") && argc == 4 && parse_int(argv[2], &a) && parse_int(argv[3], &b))
                err = rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)a, (int32_t)b);
        else if (!strcmp(cmd, "coordinator") && argc == 4 && parse_int(argv[3], &a) &&
                 (!strcmp(argv[1], "group") || !strcmp(argv[1], "transaction")))
                err = rd_kafka_mock_coordinator_set(mc, argv[1], argv[2], (int32_t)a);
        else if (!strcmp(cmd, "errors") && argc == 4 && parse_int(argv[1], &a) && parse_int(argv[2], &b) &&
                 parse_int(argv[3], &c) && b > 0 && b <= 10000) {
                /* The array variant because COUNT is only known at run time (the va-arg one needs it fixed). */
                rd_kafka_resp_err_t *errs = malloc(sizeof(*errs) * (size_t)b);
                if (!errs) return "out of memory";
                for (long i = 0; i < b; i++) errs[i] = (rd_kafka_resp_err_t)c;
                rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)b, errs);
                free(errs);
        } else
                return "bad command; usage: topic NAME PARTITIONS | down ID | up ID | rtt ID MS | leader TOPIC PARTITION ID"
                       " | errors APIKEY COUNT ERRCODE | coordinator group|transaction KEY ID | version | quit";

        if (err) {
                snprintf(reason, sizeof reason, "%s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
                return reason;
        }
        return NULL;
}

int main(int argc, char **argv) {
        char errstr[512], line[1024];
        long brokers;
        if (argc == 2 && !strcmp(argv[1], "--version")) {
                printf("librdkafka %s; mock %s\n", rd_kafka_version_str(), DEV_CLUSTER_MOCK);
                return 0;
        }
        if (argc < 2 || !parse_int(argv[1], &brokers) || brokers < 1 || brokers > 64) {
                fprintf(stderr, "usage: %s BROKERS [TOPIC:PARTITIONS ...] | --version\n", argv[0]);
                return 2;
        }
        replication = brokers < 3 ? (int)brokers : 3;

        /* librdkafka's mock thread does not block signals itself; block ours while its threads are
         * created (they inherit the mask) so SIGTERM/SIGINT reach the main thread, the one reading stdin. */
        sigset_t term, old;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigaddset(&term, SIGINT);
        pthread_sigmask(SIG_BLOCK, &term, &old);

        /* The handle only owns the mock; it never connects anywhere. log_level 3 (LOG_ERR)
         * keeps its notices (e.g. "no bootstrap.servers configured") off stderr, but not real errors. */
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "dev-cluster: %s\n", errstr);
                return 1;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (!rk) {
                fprintf(stderr, "dev-cluster: rd_kafka_new: %s\n", errstr);
                return 1;
        }
        /* Brokers listen on 127.0.0.1 with ephemeral ports (librdkafka binds the mock to loopback). */
        mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
        if (!mc) {
                fprintf(stderr, "dev-cluster: failed to create the mock cluster\n");
                rd_kafka_destroy(rk);
                return 1;
        }

        int status = 0;
        for (int i = 2; i < argc && !status; i++) {
                char *colon = strrchr(argv[i], ':');
                long parts;
                if (!colon || colon == argv[i] || !parse_int(colon + 1, &parts) || parts < 1) {
                        fprintf(stderr, "dev-cluster: bad topic spec '%s' (want TOPIC:PARTITIONS)\n", argv[i]);
                        status = 2;
                        break;
                }
                *colon = '\0';
                rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, argv[i], (int)parts, replication);
                if (err) {
                        fprintf(stderr, "dev-cluster: topic %s: %s\n", argv[i], rd_kafka_err2str(err));
                        status = 1;
                }
        }

        if (!status) {
                /* No SA_RESTART: a signal must interrupt the blocking read of stdin. */
                struct sigaction sa;
                memset(&sa, 0, sizeof sa);
                sa.sa_handler = on_signal;
                sigaction(SIGTERM, &sa, NULL);
                sigaction(SIGINT, &sa, NULL);
                pthread_sigmask(SIG_SETMASK, &old, NULL);
                /* A parent that went away must not kill us half-way through the clean-up. */
                signal(SIGPIPE, SIG_IGN);

                printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
                fflush(stdout);

                int quit = 0;
                while (!quit && !stopping && fgets(line, sizeof line, stdin)) {
                        line[strcspn(line, "\r\n")] = '\0';
                        char copy[sizeof line];
                        snprintf(copy, sizeof copy, "%s", line);
                        if (strspn(line, " \t") == strlen(line)) continue; /* blank: nothing to answer */
                        const char *version = NULL;
                        const char *reason = run(line, &quit, &version);
                        if (reason) printf("ERR %s\n", reason);
                        else printf("OK %s\n", version ? version : copy);
                        fflush(stdout);
                }
        }

        /* The mock must go before its handle: librdkafka asserts on live clusters at destroy. */
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return status;
}
