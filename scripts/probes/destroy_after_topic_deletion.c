// Plain librdkafka: does rd_kafka_destroy return for a consumer whose topic
// was deleted while it consumed? With librdkafka 2.0.2 against Kafka 3.9.1 it
// does not (2026-12-01): "destroying" is the last line, for the cooperative
// and the eager assignor (STRAT=range), reading through a partition queue as
// kactor does or through the consumer queue (NOPQ=1). kactor therefore leaves
// such a consumer's closed handle to the process (src/group/consumer_group.cpp).
//
//   gcc scripts/probes/destroy_after_topic_deletion.c -o /tmp/probe -lrdkafka
//   scripts/kafka.sh topic DIR T 1
//   timeout 60 /tmp/probe "$(cat DIR/bootstrap.txt)" T group-T; echo $?   # 124: hung
//
// It produces one record, consumes it, deletes the topic (Admin API), closes
// the consumer and destroys it.
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static rd_kafka_queue_t* pq = NULL;
static const char* topic;
static void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t* parts, void* o) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int i = 0; i < parts->cnt; i++)
      if (!pq && !getenv("NOPQ")) {
        pq = rd_kafka_queue_get_partition(rk, parts->elems[i].topic, parts->elems[i].partition);
        rd_kafka_queue_forward(pq, NULL);
      }
    if (getenv("STRAT"))
      rd_kafka_assign(rk, parts);
    else
      rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
  } else {
    if (pq && getenv("DROPQ")) {
      rd_kafka_queue_destroy(pq);
      pq = NULL;
    }
    if (getenv("STRAT"))
      rd_kafka_assign(rk, NULL);
    else
      rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
  }
  printf("rebalance %s %d\n", rd_kafka_err2name(err), parts->cnt);
  fflush(stdout);
}
int main(int argc, char** argv) {
  topic = argv[2];
  char e[512];
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  rd_kafka_conf_set(c, "bootstrap.servers", argv[1], e, 512);
  rd_kafka_conf_set(c, "group.id", argv[3], e, 512);
  rd_kafka_conf_set(c, "partition.assignment.strategy",
                    getenv("STRAT") ? getenv("STRAT") : "cooperative-sticky", e, 512);
  rd_kafka_conf_set(c, "auto.offset.reset", "earliest", e, 512);
  rd_kafka_conf_set_rebalance_cb(c, rebalance);
  {
    rd_kafka_conf_t* pc = rd_kafka_conf_new();
    rd_kafka_conf_set(pc, "bootstrap.servers", argv[1], e, 512);
    rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, e, 512);
    rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_END);
    rd_kafka_flush(p, 10000);
    rd_kafka_destroy(p);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, 512);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* s = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(s, topic, -1);
  rd_kafka_subscribe(rk, s);
  int got = 0;
  time_t t0 = time(0);
  while (time(0) - t0 < 25) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m && !m->err && getenv("NOPQ") && got == 0) {
      got = 1;
      printf("record 1 (consumer queue)\n");
    }
    if (m) {
      if (m->err) {
        printf("err %s\n", rd_kafka_message_errstr(m));
        fflush(stdout);
      }
      rd_kafka_message_destroy(m);
    }
    if (pq) {
      rd_kafka_message_t* pm = rd_kafka_consume_queue(pq, 0);
      if (pm) {
        if (!pm->err) {
          got++;
          printf("record %d\n", got);
          fflush(stdout);
        }
        rd_kafka_message_destroy(pm);
      }
    }
    if (got == 1 && time(0) - t0 > 3) {
      printf("deleting topic now (externally)\n");
      fflush(stdout);
      {
        rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(topic);
        rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
        rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
        rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 10000);
        printf("delete: %s\n",
               ev ? rd_kafka_event_error_string(ev) ? rd_kafka_event_error_string(ev) : "ok"
                  : "timeout");
        fflush(stdout);
        if (ev) rd_kafka_event_destroy(ev);
        rd_kafka_DeleteTopic_destroy(dt);
        rd_kafka_queue_destroy(q);
      }
      got = 2;
    }
  }
  if (pq) {
    rd_kafka_queue_destroy(pq);
    pq = NULL;
  }
  printf("closing\n");
  fflush(stdout);
  rd_kafka_consumer_close(rk);
  printf("destroying\n");
  fflush(stdout);
  rd_kafka_destroy(rk);
  printf("destroyed\n");
  return 0;
}
