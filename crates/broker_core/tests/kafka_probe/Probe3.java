// Records the real Kafka 4.1.1 broker's answers for transactions (goldens under tests/kafka/). See README.
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;
import java.time.Duration;
import java.util.*;

public class Probe3 {
    public static void main(String[] args) throws Exception {
        Properties a = new Properties();
        a.put("bootstrap.servers", args[0]);
        try (Admin admin = Admin.create(a)) {
            admin.createTopics(List.of(new NewTopic("tx", 1, (short) 1))).all().get();
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        p.put("transactional.id", "probe-tx");
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> prod = new KafkaProducer<>(p)) {
            prod.initTransactions();
            String[][] steps = {{"a", "commit"}, {"b", "abort"}, {"c", "commit"}};
            for (String[] s : steps) {
                prod.beginTransaction();
                RecordMetadata m = prod.send(new ProducerRecord<>("tx", 0, "k", s[0])).get();
                System.out.println("send " + s[0] + " => offset " + m.offset());
                if (s[1].equals("commit")) prod.commitTransaction(); else prod.abortTransaction();
            }
        }
        for (String iso : new String[]{"read_uncommitted", "read_committed"}) {
            Properties c = new Properties();
            c.put("bootstrap.servers", args[0]);
            c.put("isolation.level", iso);
            c.put("key.deserializer", StringDeserializer.class.getName());
            c.put("value.deserializer", StringDeserializer.class.getName());
            try (KafkaConsumer<String, String> cons = new KafkaConsumer<>(c)) {
                TopicPartition tp = new TopicPartition("tx", 0);
                cons.assign(List.of(tp));
                cons.seekToBeginning(List.of(tp));
                StringBuilder sb = new StringBuilder();
                long deadline = System.currentTimeMillis() + 5000;
                int seen = 0;
                while (System.currentTimeMillis() < deadline) {
                    for (ConsumerRecord<String, String> r : cons.poll(Duration.ofMillis(200))) {
                        sb.append(" ").append(r.offset()).append(":").append(r.value());
                        seen++;
                    }
                    if (seen >= (iso.equals("read_committed") ? 2 : 3)) break;
                }
                System.out.println(iso + " =>" + sb + " end " + cons.endOffsets(List.of(tp)).get(tp));
            }
        }
    }
}
