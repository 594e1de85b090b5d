// Plain librdkafka: does a partition's batch consume lose records while
// another thread pauses and resumes the partition?
//
//   gcc scripts/probes/batch_consume_during_pause.c -o /tmp/probe -lrdkafka -lpthread
//   scripts/kafka.sh topic DIR T 1
//   /tmp/probe "$(cat DIR/bootstrap.txt)" T 300000 0   # 1: one lock around both
//
// The probe writes that many 100-byte records to partition 0, then reads
// them through the partition's own queue with rd_kafka_consume_batch_queue
// (500 at a time), while a second thread pauses the partition, waits
// 0.2 ms, resumes it, waits 5 ms, over and over. It counts the offsets the
// reader never got. With SERIAL=1 (the last argument) both threads hold one
// mutex around their librdkafka calls.
// librdkafka 2.0.2 against Kafka 3.9.1 (2026-12-02), three runs each:
// without the mutex every run skipped records (4 gaps, 559 records; 3 gaps,
// 490; 2 gaps, 490; exit 1); with it none did (exit 0). librdkafka's
// v2.0.0 release notes list it as a known issue ("Some of the messages
// might be lost"), fixed in 2.1.0 (#4208): the batch consume moves the
// partition's application offset past each record it puts in the batch,
// and a pause, resume or seek whose barrier reaches the queue before the
// batch returns takes the record out of the batch again. The partition
// then resumes at that offset. kactor holds one lock per partition around
// its batch consume and its pauses, resumes and seeks
// (src/kafka/partition_queue.cpp).
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static rd_kafka_t* consumer;
static rd_kafka_topic_partition_list_t* partition;
static volatile int done = 0;
static int serial = 0;
static pthread_mutex_t ops = PTHREAD_MUTEX_INITIALIZER;

static void lock(void) {
  if (serial) pthread_mutex_lock(&ops);
}

static void unlock(void) {
  if (serial) pthread_mutex_unlock(&ops);
}

static void* pause_and_resume(void* arg) {
  long* rounds = arg;
  const struct timespec paused = {0, 200000}, fetching = {0, 5000000};
  while (!done) {
    lock();
    rd_kafka_pause_partitions(consumer, partition);
    unlock();
    nanosleep(&paused, NULL);
    lock();
    rd_kafka_resume_partitions(consumer, partition);
    unlock();
    nanosleep(&fetching, NULL);
    ++*rounds;
  }
  return NULL;
}

static void produce(const char* brokers, const char* topic, long n) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err);
  rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!p) {
    fprintf(stderr, "producer: %s\n", err);
    exit(2);
  }
  char value[100];
  memset(value, 'v', sizeof value);
  for (long i = 0; i < n; i++)
    while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                             RD_KAFKA_V_VALUE(value, sizeof value),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(p, 10);
  if (rd_kafka_flush(p, 60000)) {
    fprintf(stderr, "producer: records not delivered\n");
    exit(2);
  }
  rd_kafka_destroy(p);
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s BROKERS TOPIC RECORDS [SERIAL]\n", argv[0]);
    return 2;
  }
  const char *brokers = argv[1], *topic = argv[2];
  const long n = atol(argv[3]);
  serial = argc > 4 && atoi(argv[4]);
  produce(brokers, topic, n);

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "batch-consume-during-pause", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  // Small fetches: many of them, each a chance for the race.
  rd_kafka_conf_set(conf, "max.partition.fetch.bytes", "65536", err, sizeof err);
  consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!consumer) {
    fprintf(stderr, "consumer: %s\n", err);
    return 2;
  }
  partition = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(partition, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer, partition);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_partition(consumer, topic, 0);
  rd_kafka_queue_forward(queue, NULL);

  long rounds = 0;
  pthread_t toggler;
  pthread_create(&toggler, NULL, pause_and_resume, &rounds);
  rd_kafka_message_t* batch[500];
  long next = 0, gaps = 0, skipped = 0;
  const time_t start = time(NULL);
  while (next < n && time(NULL) - start < 60) {
    lock();
    const ssize_t got = rd_kafka_consume_batch_queue(queue, 0, batch, 500);
    unlock();
    if (got <= 0) {
      usleep(200);
      continue;
    }
    for (ssize_t i = 0; i < got; i++) {
      const rd_kafka_message_t* m = batch[i];
      if (!m->err && m->offset >= next) {
        if (m->offset > next) {
          ++gaps;
          skipped += m->offset - next;
        }
        next = m->offset + 1;
      }
      rd_kafka_message_destroy(batch[i]);
    }
  }
  done = 1;
  pthread_join(toggler, NULL);
  printf(
      "serial=%d read up to %ld of %ld: %ld gaps, %ld records skipped, %ld pause/resume rounds\n",
      serial, next, n, gaps, skipped, rounds);
  fflush(stdout);
  // The clients are left to the process's exit: here the consumer's
  // destroy waited for a bootstrap connection that never got its
  // ApiVersion answer, which has nothing to do with what is probed.
  return skipped > 0 ? 1 : 0;
}
