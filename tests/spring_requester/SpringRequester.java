// A JVM service calling a kactor agent unchanged: Spring Kafka's
// ReplyingKafkaTemplate sends N requests and waits for each reply, matched by
// its kafka_correlationId. Its reply container listens on partition 2 of the
// reply topic only, so the template names that partition in
// kafka_replyPartition (4 big-endian bytes) and a reply sent anywhere else is
// never seen.
//
//   java SpringRequester BROKERS REQUEST_TOPIC REPLY_TOPIC N
//
// Prints one line per reply and "spring requester: K of N replies"; exits 0
// when every reply came, from partition 2, with the expected answer.

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.KafkaMessageListenerContainer;
import org.springframework.kafka.requestreply.ReplyingKafkaTemplate;
import org.springframework.kafka.support.TopicPartitionOffset;

public final class SpringRequester {
  public static void main(String[] args) throws Exception {
    final String brokers = args[0], requests = args[1], replies = args[2];
    final int n = Integer.parseInt(args[3]);
    try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", brokers))) {
      for (NewTopic t : List.of(new NewTopic(requests, 4, (short) 1), new NewTopic(replies, 3, (short) 1))) {
        try {
          admin.createTopics(List.of(t)).all().get();
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) throw e;
        }
      }
    }
    var producers = new DefaultKafkaProducerFactory<String, String>(Map.<String, Object>of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
    var consumers = new DefaultKafkaConsumerFactory<String, String>(Map.<String, Object>of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers,
        ConsumerConfig.GROUP_ID_CONFIG, replies + "-requester",
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class));
    var container = new KafkaMessageListenerContainer<>(
        consumers, new ContainerProperties(new TopicPartitionOffset(replies, 2)));
    var template = new ReplyingKafkaTemplate<>(producers, container);
    template.setDefaultReplyTimeout(Duration.ofSeconds(60));
    template.start();
    int ok = 0;
    for (int i = 0; i < n; i++) {
      var request = new ProducerRecord<String, String>(requests, "k-" + i, "what is kafka");
      ConsumerRecord<String, String> reply = template.sendAndReceive(request).get(60, TimeUnit.SECONDS);
      System.out.println("reply " + i + " from partition " + reply.partition() + ": " + reply.value());
      if (reply.partition() == 2 && reply.key().equals("k-" + i)
          && reply.value().equals("a distributed, partitioned, replicated commit log")) ok++;
    }
    System.out.println("spring requester: " + ok + " of " + n + " replies");
    template.stop();
    System.exit(ok == n ? 0 : 1);
  }
}
