import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import java.time.Duration;
import java.util.*;

public class GroupProbe {
    static KafkaConsumer<String, String> consumer(String group, String protocol, String clientId) {
        Properties p = new Properties();
        p.put("bootstrap.servers", "127.0.0.1:9392");
        p.put("group.id", group);
        p.put("group.protocol", protocol);
        if (clientId != null) p.put("client.id", clientId);
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        if (protocol.equals("classic")) p.put("partition.assignment.strategy", RangeAssignor.class.getName());
        return new KafkaConsumer<>(p);
    }
    static void show(String label, KafkaConsumer<String, String> c) {
        ConsumerGroupMetadata m = c.groupMetadata();
        TreeSet<String> a = new TreeSet<>(); for (TopicPartition tp : c.assignment()) a.add(tp.toString());
        System.out.println(label + " generation=" + m.generationId() + " member=" + m.memberId() + " assignment=" + a);
    }
    public static void main(String[] args) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", "127.0.0.1:9392"))) {
            admin.createTopics(List.of(new NewTopic("orders", 4, (short) 1), new NewTopic("payments", 2, (short) 1))).all().get();
        }
        for (String protocol : List.of("classic", "consumer")) {
            String group = "probe-" + protocol;
            KafkaConsumer<String, String> a = consumer(group, protocol, null);
            KafkaConsumer<String, String> b = consumer(group, protocol, null);
            a.subscribe(List.of("orders", "payments"));
            b.subscribe(List.of("orders", "payments"));
            for (int i = 0; i < 8; i++) { a.poll(Duration.ofMillis(500)); }
            show(protocol + " a alone", a);
            for (int i = 0; i < 12; i++) { a.poll(Duration.ofMillis(300)); b.poll(Duration.ofMillis(300)); }
            show(protocol + " a", a); show(protocol + " b", b);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", "127.0.0.1:9392"))) {
                ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
                System.out.println(protocol + " describe state=" + d.groupState() + " type=" + d.type() + " assignor=" + d.partitionAssignor() + " members=" + d.members().size());
            }
            try {
                a.commitSync(Map.of(new TopicPartition("orders", 0), new OffsetAndMetadata(0)));
                System.out.println(protocol + " commit ok");
            } catch (Exception e) { System.out.println(protocol + " commit " + e); }
            b.close(); 
            for (int i = 0; i < 10; i++) { a.poll(Duration.ofMillis(300)); }
            show(protocol + " a after b closed", a);
            a.close();
        }
    }
}
