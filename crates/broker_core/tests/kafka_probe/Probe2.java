import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.serialization.*;
import java.util.*;
import java.util.concurrent.*;
public class Probe2 {
    static String err(Throwable e) {
        Throwable c = (e instanceof ExecutionException && e.getCause() != null) ? e.getCause() : e;
        return c.getClass().getSimpleName() + ": " + c.getMessage();
    }
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        Admin admin = Admin.create(p);
        admin.createTopics(List.of(new NewTopic("compacted", 1, (short) 1).configs(Map.of("cleanup.policy", "compact")))).all().get();
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("retries", "0");
        try (KafkaProducer<byte[], byte[]> prod = new KafkaProducer<>(p)) {
            try {
                prod.send(new ProducerRecord<>("compacted", 0, null, "v".getBytes())).get();
                System.out.println("send compacted null key => ok");
            } catch (Exception e) { System.out.println("send compacted null key => " + err(e)); }
            try {
                prod.send(new ProducerRecord<>("compacted", 5, "k".getBytes(), "v".getBytes())).get(10, TimeUnit.SECONDS);
                System.out.println("send partition 5 of 1 => ok");
            } catch (Exception e) { System.out.println("send partition 5 of 1 => " + err(e)); }
        }
        admin.close();
    }
}
