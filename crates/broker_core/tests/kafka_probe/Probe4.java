import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.*;
import java.util.*;
import java.util.concurrent.*;
public class Probe4 {
    static String err(Throwable e) {
        Throwable c = (e instanceof ExecutionException && e.getCause() != null) ? e.getCause() : e;
        return c.getClass().getSimpleName() + ": " + c.getMessage();
    }
    public static void main(String[] args) throws Exception {
        Properties a = new Properties();
        a.put("bootstrap.servers", args[0]);
        try (Admin admin = Admin.create(a)) {
            admin.createTopics(List.of(new NewTopic("ts", 1, (short) 1))).all().get();
            org.apache.kafka.clients.admin.Config c = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, "ts"))).all().get().values().iterator().next();
            for (String k : new String[]{"message.timestamp.after.max.ms", "message.timestamp.before.max.ms"}) System.out.println("default " + k + " => " + c.get(k).value());
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("retries", "0");
        try (KafkaProducer<String, String> prod = new KafkaProducer<>(p)) {
            long now = System.currentTimeMillis();
            long[] offs = {7200000L, -864000000L * 10};
            for (long d : offs) {
                try {
                    RecordMetadata m = prod.send(new ProducerRecord<>("ts", 0, now + d, "k", "v")).get();
                    System.out.println("send now" + (d >= 0 ? "+" : "") + d + " => offset " + m.offset());
                } catch (Exception e) { System.out.println("send now" + (d >= 0 ? "+" : "") + d + " => " + err(e)); }
            }
        }
    }
}
