// Plain librdkafka: what does closing a cooperative-sticky consumer cost, and
// does the process survive it, while its group's rebalance waits for a
// crashed member?
//
//   gcc scripts/probes/close_during_first_join.c -o /tmp/probe -lrdkafka
//   scripts/kafka.sh topic DIR T 6
//   /tmp/probe "$(cat DIR/bootstrap.txt)" T group-$RANDOM; echo $?
//
// A child process joins the group, gets its first assignment and is killed
// (SIGKILL): the group keeps it as a member until its session (30 s) ends.
// Then consumer B subscribes: its JoinGroup waits at the coordinator for the
// dead member. After WAIT_MS (default 3000) B closes and is destroyed.
// librdkafka 2.0.2 against Kafka 3.9.1 (2026-12-01):
// - as is: close sends a LeaveGroup that the coordinator reads only after
//   answering B's JoinGroup, so close takes 5.01 s (librdkafka's LeaveGroup
//   timeout) and logs "1 request(s) timed out: disconnect" at error, twice;
// - WAIT_MS=27000 (the JoinGroup is answered within the 5 s): close 1.4-2.9 s;
// - CLOSE_AT_JOIN=1 WAIT_MS=60000 (close as soon as B's JoinGroup is
//   answered, before its first SyncGroup): the process aborts in
//   rd_kafka_sticky_assignor_state_destroy ("Assertion `assignor_state'
//   failed", exit 134; librdkafka #4312, fixed in 2.3.0), 3 of 3 runs;
// - NO_CLOSE=1: destroyed with RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE (no
//   LeaveGroup) at once.
// kactor's stop works around both (src/group/leave.cpp).
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int assigned = 0;
static volatile int join_answered = 0;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  (void)rk;
  if (strstr(buf, "JoinGroup response: GenerationId") && strstr(buf, "(no error)"))
    join_answered = 1;
  if (level <= 4) fprintf(stderr, "%.3f level %d %s: %s\n", now_s(), level, fac, buf);
}

static void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t* parts, void* o) {
  (void)o;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assigned = 1;
    rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
  } else {
    rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
  }
}

static rd_kafka_t* consumer(const char* brokers, const char* topic, const char* group) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[256];
  const char* kv[][2] = {{"bootstrap.servers", brokers},
                         {"group.id", group},
                         {"partition.assignment.strategy", "cooperative-sticky"},
                         {"session.timeout.ms", "30000"},
                         {"debug", getenv("CLOSE_AT_JOIN") ? "cgrp" : ""}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    if (*kv[i][1] && rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      exit(2);
    }
  rd_kafka_conf_set_rebalance_cb(conf, rebalance);
  rd_kafka_conf_set_log_cb(conf, on_log);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* t = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, t);
  rd_kafka_topic_partition_list_destroy(t);
  return rk;
}

static void poll_for(rd_kafka_t* rk, double seconds, int until_assigned, int at_join) {
  const double end = now_s() + seconds;
  while (now_s() < end && !(until_assigned && assigned) && !(at_join && join_answered)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, at_join ? 1 : 50);
    if (m) rd_kafka_message_destroy(m);
  }
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s BROKERS TOPIC GROUP\n", argv[0]);
    return 2;
  }
  int ready[2];
  if (pipe(ready)) return 2;
  pid_t child = fork();
  if (child == 0) {
    rd_kafka_t* rk = consumer(argv[1], argv[2], argv[3]);
    poll_for(rk, 60, 1, 0);
    if (write(ready[1], "a", 1) != 1) return 2;
    poll_for(rk, 3600, 0, 0);
    return 0;
  }
  char c;
  if (read(ready[0], &c, 1) != 1) return 2;
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  printf("member killed; B subscribes\n");
  rd_kafka_t* rk = consumer(argv[1], argv[2], argv[3]);
  poll_for(rk, (getenv("WAIT_MS") ? atoi(getenv("WAIT_MS")) : 3000) / 1000.0, 0,
           getenv("CLOSE_AT_JOIN") != NULL);
  printf("B assigned before close: %d\n", assigned);
  fflush(stdout);
  const double from = now_s();
  if (getenv("NO_CLOSE")) {
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    printf("destroyed without close in %.2f s\n", now_s() - from);
  } else {
    rd_kafka_consumer_close(rk);
    printf("closed in %.2f s\n", now_s() - from);
    rd_kafka_destroy(rk);
    printf("destroyed in %.2f s\n", now_s() - from);
  }
  return 0;
}
