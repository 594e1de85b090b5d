// Plain librdkafka: does a cooperative-sticky consumer destroyed with
// RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE finish while an assignment it has not
// served yet waits in its queue?
//
//   gcc scripts/probes/destroy_with_pending_assignment.c -o /tmp/probe -lrdkafka -lpthread
//   scripts/kafka.sh topic DIR T 4
//   /tmp/probe "$(cat DIR/bootstrap.txt)" T group-$RANDOM; echo $?
//
// Consumers A and B share the topic's partitions. B closes (it leaves);
// A, which is not polled meanwhile, rejoins and its SyncGroup answer gives it
// B's partitions: librdkafka queues the assignment for the application
// (join-state wait-assign-call). A is then destroyed without a close, as
// when a stop lands in that moment.
// librdkafka 2.0.2 against Kafka 3.9.1 (2026-12-01): the destroy never
// returns (exit 1 after 20 s) in 4 of 5 runs; in the fifth A was not handed
// B's partitions within 90 s (exit 2). Meanwhile librdkafka's main thread
// spins at a full core, logging "waiting for assign call, 2 toppar(s),
// assignment in progress, 0 commit(s) (state up, join-state
// wait-assign-call) before terminating" again and again: the termination
// unassigns only a pending *revocation* (rd_kafka_cgrp_unassign), and
// nobody serves the pending assignment any more. With POLL_FIRST=1 (A
// serves its queue before the destroy) it returns in 10 ms, 2 of 2 runs.
// kactor's stop serves its queue until no assignment can come before the
// destroy's termination, and watches the destroy for that line
// (src/group/leave.cpp).
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile int a_waits_for_assign_call = 0;
static volatile int destroyed = 0;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  (void)level;
  (void)fac;
  if (strcmp(rd_kafka_name(rk), "A") != 0 && strncmp(rd_kafka_name(rk), "A#", 2) != 0) return;
  if (strstr(buf, "-> wait-assign-call")) a_waits_for_assign_call = 1;
  if (strstr(buf, "waiting for assign call")) {
    static int shown = 0;
    if (!shown++) fprintf(stderr, "%.3f A: %s\n", now_s(), buf);
  }
}

static void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t* parts, void* o) {
  (void)o;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
    rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
  else
    rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
}

static rd_kafka_t* consumer(const char* name, const char* brokers, const char* group,
                            const char* topic) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "client.id", name, err, sizeof err);
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group, err, sizeof err);
  rd_kafka_conf_set(conf, "partition.assignment.strategy", "cooperative-sticky", err, sizeof err);
  rd_kafka_conf_set(conf, "heartbeat.interval.ms", "500", err, sizeof err);
  rd_kafka_conf_set(conf, "debug", "cgrp", err, sizeof err);
  rd_kafka_conf_set_log_cb(conf, on_log);
  rd_kafka_conf_set_rebalance_cb(conf, rebalance);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "%s\n", err);
    exit(2);
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* t = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, t);
  rd_kafka_topic_partition_list_destroy(t);
  return rk;
}

static int holds(rd_kafka_t* rk) {
  rd_kafka_topic_partition_list_t* parts = NULL;
  rd_kafka_assignment(rk, &parts);
  int n = parts ? parts->cnt : 0;
  if (parts) rd_kafka_topic_partition_list_destroy(parts);
  return n;
}

static void* destroy_a(void* rk) {
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  destroyed = 1;
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s BROKERS TOPIC GROUP\n", argv[0]);
    return 2;
  }
  rd_kafka_t* a = consumer("A", argv[1], argv[3], argv[2]);
  rd_kafka_t* b = consumer("B", argv[1], argv[3], argv[2]);
  // Both members hold partitions (cooperative: two rounds).
  const double start = now_s();
  while (!(holds(a) > 0 && holds(b) > 0 && holds(a) + holds(b) == 4)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(a, 50);
    if (m) rd_kafka_message_destroy(m);
    m = rd_kafka_consumer_poll(b, 50);
    if (m) rd_kafka_message_destroy(m);
    if (now_s() - start > 60) {
      fprintf(stderr, "no shared assignment within 60 s\n");
      return 2;
    }
  }
  fprintf(stderr, "%.3f A holds %d, B holds %d; B closes\n", now_s(), holds(a), holds(b));
  a_waits_for_assign_call = 0;  // from here on: the assignment of B's partitions
  rd_kafka_consumer_close(b);
  rd_kafka_destroy(b);
  while (!a_waits_for_assign_call) {
    if (now_s() - start > 90) {
      fprintf(stderr, "A was never handed B's partitions\n");
      return 2;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);  // A is deliberately not polled: observe only
  }
  if (getenv("POLL_FIRST")) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(a, 100);
    if (m) rd_kafka_message_destroy(m);
  }
  fprintf(stderr, "%.3f A waits for its assign call; destroying A without a close\n", now_s());
  const double from = now_s();
  pthread_t th;
  pthread_create(&th, NULL, destroy_a, a);
  while (!destroyed && now_s() - from < 20) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (!destroyed) {
    fprintf(stderr, "%.3f destroy did not return within 20 s\n", now_s());
    return 1;
  }
  fprintf(stderr, "%.3f destroy returned after %.3f s\n", now_s(), now_s() - from);
  return 0;
}
