// Records the real Kafka 4.1.1 broker's answers (goldens under tests/kafka/). Not part of the build; see README.
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.config.*;
import org.apache.kafka.common.serialization.*;
import java.util.*;
import java.util.concurrent.*;

public class Probe {
    static Admin admin;
    static String boot;

    static String err(Throwable e) {
        Throwable c = (e instanceof ExecutionException && e.getCause() != null) ? e.getCause() : e;
        return c.getClass().getSimpleName() + ": " + c.getMessage();
    }

    static void create(String label, String name, Optional<Integer> parts, Optional<Short> rf, Map<String, String> configs) {
        NewTopic t = new NewTopic(name, parts, rf).configs(configs);
        try {
            admin.createTopics(List.of(t)).all().get();
            System.out.println("create " + label + " => ok");
        } catch (Exception e) {
            System.out.println("create " + label + " => " + err(e));
        }
    }

    static void alter(String label, String topic, String key, String value) {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try {
            admin.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET)))).all().get();
            System.out.println("alter " + label + " => ok");
        } catch (Exception e) {
            System.out.println("alter " + label + " => " + err(e));
        }
    }

    public static void main(String[] args) throws Exception {
        boot = args[0];
        Properties p = new Properties();
        p.put("bootstrap.servers", boot);
        admin = Admin.create(p);
        Optional<Integer> none = Optional.empty();
        Optional<Short> noRf = Optional.empty();
        Map<String, String> noc = Map.of();
        create("empty", "", Optional.of(1), noRf, noc);
        create("dot", ".", Optional.of(1), noRf, noc);
        create("dotdot", "..", Optional.of(1), noRf, noc);
        create("space", "bad name", Optional.of(1), noRf, noc);
        create("slash", "a/b", Optional.of(1), noRf, noc);
        create("len249", "a".repeat(249), Optional.of(1), noRf, noc);
        create("len250", "b".repeat(250), Optional.of(1), noRf, noc);
        create("dotted", "my.topic", Optional.of(1), noRf, noc);
        create("underscored", "my_topic", Optional.of(1), noRf, noc);
        create("dotted-again", "my.topic", Optional.of(1), noRf, noc);
        create("parts0", "p0", Optional.of(0), noRf, noc);
        create("parts-2", "pm2", Optional.of(-2), noRf, noc);
        create("rf0", "rf0", Optional.of(1), Optional.of((short) 0), noc);
        create("rf2", "rf2", Optional.of(3), Optional.of((short) 2), noc);
        create("rf-2", "rfm2", Optional.of(1), Optional.of((short) -2), noc);
        create("default", "defaults", none, noRf, noc);
        create("bad-policy", "c1", Optional.of(1), noRf, Map.of("cleanup.policy", "foo"));
        create("unknown-config", "c2", Optional.of(1), noRf, Map.of("no.such.config", "1"));
        create("minisr2-rf1", "minisr", Optional.of(1), noRf, Map.of("min.insync.replicas", "2"));
        String[][] alters = {
            {"cleanup.policy", "foo"}, {"cleanup.policy", "compact,delete"}, {"cleanup.policy", ""},
            {"retention.ms", "abc"}, {"retention.ms", "-5"}, {"retention.ms", "-1"}, {"retention.bytes", "-7"},
            {"segment.bytes", "100"}, {"segment.bytes", "1048576"}, {"segment.bytes", "x"},
            {"segment.ms", "0"}, {"segment.ms", "1"}, {"min.insync.replicas", "0"}, {"min.insync.replicas", "5"},
            {"max.message.bytes", "-1"}, {"max.message.bytes", "0"}, {"max.message.bytes", "100"},
            {"message.timestamp.type", "foo"}, {"message.timestamp.type", "LogAppendTime"},
            {"delete.retention.ms", "-1"}, {"min.cleanable.dirty.ratio", "2"}, {"min.cleanable.dirty.ratio", "-0.1"},
            {"min.cleanable.dirty.ratio", "abc"}, {"unclean.leader.election.enable", "maybe"},
            {"unclean.leader.election.enable", "TRUE"}, {"no.such.config", "1"}, {"retention.ms", "1.5"},
            {"retention.ms", " 5"}, {"segment.bytes", "99999999999"},
        };
        for (String[] a : alters) alter(a[0] + "=" + a[1], "defaults", a[0], a[1]);
        alter("unknown-topic", "nosuch", "retention.ms", "1");
        // describe configs of a fresh topic
        create("described", "described", Optional.of(2), noRf, noc);
        org.apache.kafka.clients.admin.Config c = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, "described"))).all().get().values().iterator().next();
        for (String k : new String[]{"cleanup.policy", "retention.ms", "retention.bytes", "segment.bytes", "segment.ms", "min.insync.replicas",
                "max.message.bytes", "message.timestamp.type", "delete.retention.ms", "min.cleanable.dirty.ratio", "unclean.leader.election.enable"}) {
            ConfigEntry e = c.get(k);
            System.out.println("default " + k + " => " + e.value() + " (" + e.source() + ")");
        }
        try {
            admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, "nosuch"))).all().get();
            System.out.println("describe-configs unknown => ok");
        } catch (Exception e) { System.out.println("describe-configs unknown => " + err(e)); }
        // partitions
        int[][] incs = {{2}, {1}, {3}};
        for (int[] n : incs) {
            try {
                admin.createPartitions(Map.of("described", NewPartitions.increaseTo(n[0]))).all().get();
                System.out.println("partitions described to " + n[0] + " => ok");
            } catch (Exception e) { System.out.println("partitions described to " + n[0] + " => " + err(e)); }
        }
        try {
            admin.createPartitions(Map.of("nosuch", NewPartitions.increaseTo(4))).all().get();
            System.out.println("partitions nosuch => ok");
        } catch (Exception e) { System.out.println("partitions nosuch => " + err(e)); }
        try {
            admin.createPartitions(Map.of("described", NewPartitions.increaseTo(0))).all().get();
            System.out.println("partitions to 0 => ok");
        } catch (Exception e) { System.out.println("partitions to 0 => " + err(e)); }
        try {
            admin.deleteTopics(List.of("nosuch")).all().get();
            System.out.println("delete nosuch => ok");
        } catch (Exception e) { System.out.println("delete nosuch => " + err(e)); }
        try {
            admin.describeTopics(List.of("nosuch")).allTopicNames().get();
            System.out.println("describe nosuch => ok");
        } catch (Exception e) { System.out.println("describe nosuch => " + err(e)); }
        // records: max.message.bytes, deleteRecords, min.insync.replicas
        create("small", "small", Optional.of(1), noRf, Map.of("max.message.bytes", "100"));
        Properties pp = new Properties();
        pp.put("bootstrap.servers", boot);
        pp.put("key.serializer", ByteArraySerializer.class.getName());
        pp.put("value.serializer", ByteArraySerializer.class.getName());
        pp.put("linger.ms", "0");
        pp.put("retries", "0");
        pp.put("compression.type", "none");
        try (KafkaProducer<byte[], byte[]> prod = new KafkaProducer<>(pp)) {
            for (int n = 20; n <= 40; n++) {
                byte[] v = new byte[n];
                try {
                    RecordMetadata m = prod.send(new ProducerRecord<>("small", 0, 1000L, "k".getBytes(), v)).get();
                    System.out.println("send small key=k value=" + n + "B => offset " + m.offset() + " size " + m.serializedValueSize());
                } catch (Exception e) { System.out.println("send small key=k value=" + n + "B => " + err(e)); }
            }
            for (int i = 0; i < 3; i++) prod.send(new ProducerRecord<>("described", 0, "x".getBytes(), "y".getBytes())).get();
            try {
                prod.send(new ProducerRecord<>("minisr", 0, "x".getBytes(), "y".getBytes())).get();
                System.out.println("send minisr acks=all => ok");
            } catch (Exception e) { System.out.println("send minisr acks=all => " + err(e)); }
        }
        TopicPartition tp = new TopicPartition("described", 0);
        long[] dels = {5, 4, 3, 1, -1, 0};
        for (long d : dels) {
            try {
                DeletedRecords r = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(d))).lowWatermarks().get(tp).get();
                System.out.println("deleteRecords before " + d + " => low watermark " + r.lowWatermark());
            } catch (Exception e) { System.out.println("deleteRecords before " + d + " => " + err(e)); }
        }
        admin.close();
    }
}
