// The real side of Brokerlab's Kafka programs: Kafka's own Java client (Admin, KafkaProducer, KafkaConsumer)
// driven by JSON lines. `java -cp "$LIB/*:DIR" KafkaDriver BOOTSTRAP` reads one call per line on stdin (the
// serde form of broker_core::kafka::program::ClientCall) and answers one ClientReply per line on stdout.
// Compiled by scripts/real-kafka-tests.sh with `javac -cp "$LIB/*"`; Jackson comes with Kafka's jars.
//
// What a poll means here (docs/real-broker.md): the consumer is polled until it has caught up — it has
// joined its group (every consumer of that group in this driver is in the same generation), it has a
// position at the end of every assigned, unpaused partition, and its last poll returned nothing — or it
// has max.poll.records records, or 20 s have passed. Other consumers of the same group are polled too, so
// a rebalance can complete; what they receive meanwhile is kept for their own next poll. A consumer with the
// same group.instance.id is not one of them: it is the static member this one replaces (the process before
// a restart), which acts only on its own statements (see `otherMember`).
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class KafkaDriver {
    static final ObjectMapper JSON = new ObjectMapper();
    static final long POLL_BOUND_MS = 20_000;
    static String bootstrap;
    static final Map<String, Admin> admins = new HashMap<>();
    static final Map<String, KafkaProducer<String, String>> producers = new HashMap<>();
    static final Map<String, List<Object[]>> pending = new HashMap<>(); // producer -> [topic, future]
    static final Map<String, Consumer> consumers = new LinkedHashMap<>();
    static final Map<String, Share> shares = new LinkedHashMap<>();

    /// A share consumer (KIP-932) and the records of its last poll (for a loop that acknowledges them).
    static final class Share {
        final KafkaShareConsumer<String, String> client;
        List<ConsumerRecord<String, String>> last = new ArrayList<>();
        Share(KafkaShareConsumer<String, String> client) { this.client = client; }
    }

    static final class Consumer {
        final String name;
        final KafkaConsumer<String, String> client;
        final String group;
        // group.instance.id: a static member (null for a dynamic one).
        final String instance;
        final int maxPollRecords;
        final boolean consumerProtocol;
        boolean subscribed;
        boolean closed;
        boolean assignedSinceSubscribe;
        // Polled since it subscribed: it has joined its group (a consumer joins at its first poll).
        boolean polledSinceSubscribe;
        final List<ConsumerRecord<String, String>> buffer = new ArrayList<>();
        Exception asyncCommitError;
        // A document's `commit_on_revoke`: the listener's onPartitionsRevoked calls commitSync().
        boolean commitOnRevoke;

        Consumer(String name, KafkaConsumer<String, String> client, String group, String instance, int maxPollRecords, boolean consumerProtocol) {
            this.name = name;
            this.client = client;
            this.group = group;
            this.instance = instance;
            this.maxPollRecords = maxPollRecords;
            this.consumerProtocol = consumerProtocol;
        }

        ConsumerRebalanceListener listener() {
            return new ConsumerRebalanceListener() {
                public void onPartitionsRevoked(Collection<TopicPartition> p) { if (commitOnRevoke) client.commitSync(); }
                public void onPartitionsAssigned(Collection<TopicPartition> p) { assignedSinceSubscribe = true; }
            };
        }
    }

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            ObjectNode reply;
            try {
                reply = handle(JSON.readTree(line));
            } catch (Exception e) {
                reply = error(e);
            }
            out.println(JSON.writeValueAsString(reply));
        }
        for (Consumer c : consumers.values()) if (!c.closed) quietly(() -> c.client.close(Duration.ofSeconds(5)));
        for (Share s : shares.values()) quietly(() -> s.client.close(Duration.ofSeconds(5)));
        for (KafkaProducer<String, String> p : producers.values()) quietly(() -> p.close(Duration.ofSeconds(5)));
        for (Admin a : admins.values()) quietly(() -> a.close(Duration.ofSeconds(5)));
    }

    interface Action { void run() throws Exception; }
    static void quietly(Action a) { try { a.run(); } catch (Exception ignored) { } }

    static Throwable cause(Throwable e) {
        while ((e instanceof ExecutionException || e instanceof java.util.concurrent.CompletionException) && e.getCause() != null) e = e.getCause();
        return e;
    }

    static ObjectNode errorNode(Throwable e) {
        Throwable c = cause(e);
        ObjectNode n = JSON.createObjectNode();
        n.put("exception", c.getClass().getSimpleName());
        n.put("message", c.getMessage() == null ? "" : c.getMessage());
        return n;
    }

    static ObjectNode error(Throwable e) {
        ObjectNode r = reply("error");
        r.set("error", errorNode(e));
        return r;
    }

    static ObjectNode reply(String kind) {
        ObjectNode r = JSON.createObjectNode();
        r.put("reply", kind);
        return r;
    }

    static Properties props(JsonNode pairs) {
        Properties p = new Properties();
        for (JsonNode kv : pairs) p.put(kv.get(0).asText(), kv.get(1).asText());
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    static TopicPartition tp(JsonNode n) { return new TopicPartition(n.get("topic").asText(), n.get("partition").asInt()); }

    static List<TopicPartition> tps(JsonNode list) {
        List<TopicPartition> out = new ArrayList<>();
        for (JsonNode n : list) out.add(tp(n));
        return out;
    }

    static List<String> strings(JsonNode list) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : list) out.add(n.asText());
        return out;
    }

    static String text(JsonNode n) { return n == null || n.isNull() ? null : n.asText(); }

    static ObjectNode tpNode(TopicPartition t) {
        ObjectNode n = JSON.createObjectNode();
        n.put("topic", t.topic());
        n.put("partition", t.partition());
        return n;
    }

    static ObjectNode offsetNode(TopicPartition t, Long offset) {
        ObjectNode n = tpNode(t);
        if (offset == null) n.putNull("offset"); else n.put("offset", offset);
        return n;
    }

    static ObjectNode offsets(Map<TopicPartition, OffsetAndMetadata> map) {
        ObjectNode r = reply("offsets");
        ArrayNode a = r.putArray("offsets");
        List<TopicPartition> keys = new ArrayList<>(map.keySet());
        keys.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        for (TopicPartition t : keys) {
            OffsetAndMetadata om = map.get(t);
            a.add(offsetNode(t, om == null ? null : om.offset()));
        }
        return r;
    }

    static ObjectNode outcome(String topic, Future<RecordMetadata> f) {
        ObjectNode n = JSON.createObjectNode();
        n.put("topic", topic);
        try {
            RecordMetadata m = f.get();
            n.put("partition", m.partition());
            n.put("offset", m.offset());
            n.putNull("error");
        } catch (Exception e) {
            n.put("partition", -1);
            n.put("offset", -1);
            n.set("error", errorNode(e));
        }
        return n;
    }

    static ObjectNode drainPending(String producer) {
        ObjectNode r = reply("sendOutcomes");
        ArrayNode a = r.putArray("outcomes");
        List<Object[]> list = pending.computeIfAbsent(producer, k -> new ArrayList<>());
        for (Object[] p : list) {
            @SuppressWarnings("unchecked") Future<RecordMetadata> f = (Future<RecordMetadata>) p[1];
            a.add(outcome((String) p[0], f));
        }
        list.clear();
        return r;
    }

    static <T> T need(Map<String, T> m, String name, String what) {
        T v = m.get(name);
        if (v == null) throw new IllegalStateException("no " + what + " named " + name);
        return v;
    }

    static ObjectNode handle(JsonNode call) throws Exception {
        String op = call.get("op").asText();
        switch (op) {
            case "sleep": Thread.sleep(call.get("ms").asLong()); return reply("done");
            case "newAdmin": admins.put(call.get("admin").asText(), Admin.create(props(call.get("properties")))); return reply("done");
            case "newProducer": {
                Properties p = props(call.get("properties"));
                KafkaProducer<String, String> k = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
                producers.put(call.get("producer").asText(), k);
                return reply("done");
            }
            case "newConsumer": {
                Properties p = props(call.get("properties"));
                // Faster rebalances than the 3 s default; behaviour is otherwise the same.
                // (The consumer protocol of KIP-848 takes the broker's interval and refuses this setting.)
                if (!"consumer".equalsIgnoreCase(p.getProperty("group.protocol", "classic"))) p.putIfAbsent("heartbeat.interval.ms", "300");
                String name = call.get("consumer").asText();
                KafkaConsumer<String, String> k = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
                int max = Integer.parseInt(p.getProperty("max.poll.records", "500"));
                boolean kip848 = "consumer".equalsIgnoreCase(p.getProperty("group.protocol", "classic"));
                consumers.put(name, new Consumer(name, k, p.getProperty("group.id"), p.getProperty("group.instance.id"), max, kip848));
                return reply("done");
            }
            // Kafka documents (crates/real_broker/src/kafka_document.rs): sends with headers, one plain poll,
            // a crash.
            case "docSend": return docSend(call);
            case "docOutcomes": return docOutcomes(call.get("producer").asText());
            case "docPoll": return docPoll(need(consumers, call.get("consumer").asText(), "consumer"), call.get("ms").asLong());
            case "docCrash": return docCrash(need(consumers, call.get("consumer").asText(), "consumer"));
            case "docCommitOnRevoke": need(consumers, call.get("consumer").asText(), "consumer").commitOnRevoke = true; return reply("done");
        }
        if (op.equals("newShareConsumer")) {
            Properties p = props(call.get("properties"));
            shares.put(call.get("share").asText(), new Share(new KafkaShareConsumer<>(p, new StringDeserializer(), new StringDeserializer())));
            return reply("done");
        }
        if (call.has("share")) return share(need(shares, call.get("share").asText(), "share consumer"), op, call);
        if (call.has("admin")) return admin(need(admins, call.get("admin").asText(), "admin"), op, call);
        if (call.has("producer")) return producer(call.get("producer").asText(), op, call);
        if (call.has("consumer")) return consumer(need(consumers, call.get("consumer").asText(), "consumer"), op, call);
        throw new IllegalArgumentException("unknown call " + op);
    }

    static ObjectNode admin(Admin admin, String op, JsonNode call) throws Exception {
        switch (op) {
            case "createTopics": {
                List<NewTopic> topics = new ArrayList<>();
                for (JsonNode t : call.get("topics")) {
                    Optional<Integer> parts = t.get("partitions").isNull() ? Optional.empty() : Optional.of(t.get("partitions").asInt());
                    Optional<Short> rf = t.get("replication_factor").isNull() ? Optional.empty() : Optional.of((short) t.get("replication_factor").asInt());
                    NewTopic nt;
                    if (t.has("replica_assignment")) {
                        // A TreeMap: the request lists the partitions in order (Map.of's order is random).
                        Map<Integer, List<Integer>> assignment = new TreeMap<>();
                        for (JsonNode pr : t.get("replica_assignment")) {
                            List<Integer> replicas = new ArrayList<>();
                            for (JsonNode b : pr.get(1)) replicas.add(b.asInt());
                            assignment.put(pr.get(0).asInt(), replicas);
                        }
                        nt = new NewTopic(t.get("name").asText(), assignment);
                    } else {
                        nt = new NewTopic(t.get("name").asText(), parts, rf);
                    }
                    Map<String, String> configs = new LinkedHashMap<>();
                    for (JsonNode kv : t.get("configs")) configs.put(kv.get(0).asText(), kv.get(1).asText());
                    if (!configs.isEmpty()) nt.configs(configs);
                    topics.add(nt);
                }
                admin.createTopics(topics).all().get();
                return reply("done");
            }
            case "deleteTopics": admin.deleteTopics(strings(call.get("topics"))).all().get(); return reply("done");
            case "createPartitions":
                admin.createPartitions(Map.of(call.get("topic").asText(), NewPartitions.increaseTo(call.get("total").asInt()))).all().get();
                return reply("done");
            case "electLeaders": {
                Set<TopicPartition> tps = new LinkedHashSet<>();
                for (JsonNode tp : call.get("partitions")) tps.add(new TopicPartition(tp.get("topic").asText(), tp.get("partition").asInt()));
                admin.electLeaders(ElectionType.valueOf(call.get("election").asText()), tps).all().get();
                return reply("done");
            }
            case "describeCluster": {
                List<Integer> ids = new ArrayList<>();
                for (org.apache.kafka.common.Node n : admin.describeCluster().nodes().get()) ids.add(n.id());
                Collections.sort(ids);
                ObjectNode r = reply("nodes");
                ArrayNode a = r.putArray("nodes");
                for (int id : ids) a.add(id);
                return r;
            }
            case "describeTopics": {
                List<String> names = strings(call.get("topics"));
                Map<String, TopicDescription> d = admin.describeTopics(names).allTopicNames().get();
                ObjectNode r = reply("topics");
                ArrayNode a = r.putArray("topics");
                for (String name : names) {
                    TopicDescription td = d.get(name);
                    ObjectNode t = a.addObject();
                    t.put("name", name);
                    ArrayNode ps = t.putArray("partitions");
                    for (TopicPartitionInfo p : td.partitions()) {
                        ObjectNode pn = ps.addObject();
                        pn.put("partition", p.partition());
                        if (p.leader() == null || p.leader().isEmpty()) pn.putNull("leader"); else pn.put("leader", p.leader().id());
                        ArrayNode rs = pn.putArray("replicas");
                        for (Node n : p.replicas()) rs.add(n.id());
                        ArrayNode isr = pn.putArray("isr");
                        for (Node n : p.isr()) isr.add(n.id());
                    }
                }
                return r;
            }
            case "incrementalAlterConfigs": {
                List<AlterConfigOp> ops = new ArrayList<>();
                for (JsonNode o : call.get("ops")) {
                    String v = text(o.get("value"));
                    ops.add(v == null
                        ? new AlterConfigOp(new ConfigEntry(o.get("name").asText(), null), AlterConfigOp.OpType.DELETE)
                        : new AlterConfigOp(new ConfigEntry(o.get("name").asText(), v), AlterConfigOp.OpType.SET));
                }
                ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, call.get("topic").asText());
                admin.incrementalAlterConfigs(Map.of(res, ops)).all().get();
                return reply("done");
            }
            case "alterGroupConfigs": {
                List<AlterConfigOp> ops = new ArrayList<>();
                for (JsonNode o : call.get("ops")) {
                    String v = text(o.get("value"));
                    ops.add(v == null
                        ? new AlterConfigOp(new ConfigEntry(o.get("name").asText(), null), AlterConfigOp.OpType.DELETE)
                        : new AlterConfigOp(new ConfigEntry(o.get("name").asText(), v), AlterConfigOp.OpType.SET));
                }
                ConfigResource res = new ConfigResource(ConfigResource.Type.GROUP, call.get("group").asText());
                admin.incrementalAlterConfigs(Map.of(res, ops)).all().get();
                return reply("done");
            }
            case "describeConfigs": {
                ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, call.get("topic").asText());
                Config c = admin.describeConfigs(List.of(res)).all().get().get(res);
                List<ConfigEntry> entries = new ArrayList<>();
                for (ConfigEntry e : c.entries()) if (e.source() != ConfigEntry.ConfigSource.DEFAULT_CONFIG) entries.add(e);
                entries.sort(Comparator.comparing(ConfigEntry::name));
                ObjectNode r = reply("configs");
                ArrayNode a = r.putArray("configs");
                for (ConfigEntry e : entries) a.addArray().add(e.name()).add(e.value());
                return r;
            }
            case "deleteRecords": {
                TopicPartition t = tp(call.get("partition"));
                DeletedRecords d = admin.deleteRecords(Map.of(t, RecordsToDelete.beforeOffset(call.get("before_offset").asLong()))).lowWatermarks().get(t).get();
                ObjectNode r = reply("offset");
                r.put("offset", d.lowWatermark());
                return r;
            }
            case "listOffsets": {
                TopicPartition t = tp(call.get("partition"));
                JsonNode spec = call.get("spec");
                OffsetSpec s = spec.isTextual()
                    ? (spec.asText().equals("earliest") ? OffsetSpec.earliest() : OffsetSpec.latest())
                    : OffsetSpec.forTimestamp(spec.get("for_timestamp").asLong());
                long o = admin.listOffsets(Map.of(t, s)).partitionResult(t).get().offset();
                ObjectNode r = reply("offset");
                if (o < 0) r.putNull("offset"); else r.put("offset", o);
                return r;
            }
            case "listConsumerGroupOffsets":
                return offsets(admin.listConsumerGroupOffsets(call.get("group").asText()).partitionsToOffsetAndMetadata().get());
            case "deleteConsumerGroups": {
                // Static members stay in a group after close() until their session times out: remove them.
                for (String g : strings(call.get("groups"))) {
                    quietly(() -> admin.removeMembersFromConsumerGroup(g, new RemoveMembersFromConsumerGroupOptions()).all().get());
                }
                // A share group (KIP-932) goes by its own call.
                quietly(() -> admin.deleteShareGroups(strings(call.get("groups"))).all().get());
                admin.deleteConsumerGroups(strings(call.get("groups"))).all().get();
                return reply("done");
            }
            case "deleteConsumerGroupOffsets": {
                // Each partition's own future: a group-level error fails all of them alike.
                List<TopicPartition> parts = tps(call.get("partitions"));
                DeleteConsumerGroupOffsetsResult res = admin.deleteConsumerGroupOffsets(call.get("group").asText(), new LinkedHashSet<>(parts));
                ObjectNode r = reply("partitionResults");
                ArrayNode a = r.putArray("results");
                for (TopicPartition t : parts) {
                    ObjectNode n = tpNode(t);
                    try {
                        res.partitionResult(t).get();
                        n.putNull("error");
                    } catch (Exception e) {
                        n.set("error", errorNode(e));
                    }
                    a.add(n);
                }
                return r;
            }
            case "alterConsumerGroupOffsets": {
                Map<TopicPartition, OffsetAndMetadata> m = new LinkedHashMap<>();
                for (JsonNode o : call.get("offsets")) m.put(tp(o), new OffsetAndMetadata(o.get("offset").asLong()));
                admin.alterConsumerGroupOffsets(call.get("group").asText(), m).all().get();
                return reply("done");
            }
            case "describeConsumerGroups": {
                List<String> names = strings(call.get("groups"));
                Map<String, ConsumerGroupDescription> d = admin.describeConsumerGroups(names).all().get();
                ObjectNode r = reply("groups");
                ArrayNode a = r.putArray("groups");
                for (String name : names) {
                    ConsumerGroupDescription g = d.get(name);
                    ObjectNode gn = a.addObject();
                    gn.put("group_id", g.groupId());
                    gn.put("state", g.groupState().toString());
                    gn.put("assignor", g.partitionAssignor());
                    ArrayNode ms = gn.putArray("members");
                    for (MemberDescription m : g.members()) {
                        ObjectNode mn = ms.addObject();
                        mn.put("member_id", m.consumerId());
                        if (m.groupInstanceId().isPresent()) mn.put("instance_id", m.groupInstanceId().get()); else mn.putNull("instance_id");
                        mn.put("client_id", m.clientId());
                        mn.put("host", m.host());
                        List<TopicPartition> parts = new ArrayList<>(m.assignment().topicPartitions());
                        parts.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
                        ArrayNode an = mn.putArray("assignment");
                        for (TopicPartition t : parts) an.add(tpNode(t));
                    }
                }
                return r;
            }
        }
        throw new IllegalArgumentException("unknown admin call " + op);
    }

    static ObjectNode producer(String name, String op, JsonNode call) throws Exception {
        KafkaProducer<String, String> p = need(producers, name, "producer");
        switch (op) {
            case "send": {
                JsonNode r = call.get("record");
                JsonNode part = r.get("partition"), ts = r.get("timestamp");
                String topic = r.get("topic").asText();
                List<org.apache.kafka.common.header.Header> headers = new ArrayList<>();
                if (r.has("headers")) {
                    for (JsonNode h : r.get("headers")) {
                        String v = text(h.get(1));
                        headers.add(new org.apache.kafka.common.header.internals.RecordHeader(h.get(0).asText(),
                            v == null ? null : v.getBytes(StandardCharsets.UTF_8)));
                    }
                }
                ProducerRecord<String, String> rec = new ProducerRecord<>(topic,
                    part == null || part.isNull() ? null : part.asInt(),
                    ts == null || ts.isNull() ? null : ts.asLong(),
                    text(r.get("key")), text(r.get("value")), headers);
                Future<RecordMetadata> f = p.send(rec);
                if (call.get("get").asBoolean()) {
                    ObjectNode o = outcome(topic, f);
                    if (!o.get("error").isNull()) {
                        ObjectNode e = reply("error");
                        e.set("error", o.get("error"));
                        return e;
                    }
                    ObjectNode reply = reply("sent");
                    reply.set("outcome", o);
                    return reply;
                }
                pending.computeIfAbsent(name, k -> new ArrayList<>()).add(new Object[] {topic, f});
                return reply("done");
            }
            case "sendOffsetsToTransaction": {
                Map<TopicPartition, OffsetAndMetadata> m = new LinkedHashMap<>();
                for (JsonNode o : call.get("offsets")) m.put(tp(o), new OffsetAndMetadata(o.get("offset").asLong()));
                JsonNode c = call.get("consumer");
                ConsumerGroupMetadata meta = c != null && !c.isNull()
                    ? need(consumers, c.asText(), "consumer").client.groupMetadata()
                    : new ConsumerGroupMetadata(call.get("group").asText());
                p.sendOffsetsToTransaction(m, meta);
                return reply("done");
            }
            case "flush": p.flush(); return drainPending(name);
            case "initTransactions": p.initTransactions(); return reply("done");
            case "beginTransaction": p.beginTransaction(); return reply("done");
            case "commitTransaction": p.commitTransaction(); return drainPending(name);
            case "abortTransaction": p.abortTransaction(); return drainPending(name);
            case "closeProducer": {
                // Kept: a later send gets the client's own "closed" exception. A zero timeout is a forced
                // close: an open transaction is left to the coordinator's timeout (a crashed producer).
                JsonNode timeout = call.get("timeout_ms");
                p.close(timeout == null || timeout.isNull() ? Duration.ofSeconds(30) : Duration.ofMillis(timeout.asLong()));
                return drainPending(name);
            }
        }
        throw new IllegalArgumentException("unknown producer call " + op);
    }

    /// Whether `o` is another member of `c`'s group, polled with it and waited for. Not a consumer with c's
    /// group.instance.id: that is the static member c replaced, or the one that replaced c. Kafka fences
    /// the older of the two on its next request (FencedInstanceIdException); polled here, the fenced one
    /// threw that exception out of the other's poll, and a second poll of it joined again with the same
    /// group.instance.id and fenced the newer member in turn (scenario static-member-restart, racing with
    /// the heartbeat that fences it on a loaded machine). A restarted process's old instance acts only on
    /// its own statements.
    static boolean otherMember(Consumer c, Consumer o) {
        return o != c && Objects.equals(o.group, c.group) && !(c.instance != null && c.instance.equals(o.instance));
    }

    /// Whether `c` has caught up: joined with its group's other consumers here, at the end of its partitions.
    static boolean caughtUp(Consumer c) {
        if (c.subscribed) {
            if (!c.assignedSinceSubscribe) return false;
            int gen = c.client.groupMetadata().generationId();
            if (gen < 0) return false;
            for (Consumer o : consumers.values()) {
                if (otherMember(c, o) && o.subscribed && o.polledSinceSubscribe && o.client.groupMetadata().generationId() != gen) return false;
            }
            // The consumer protocol (KIP-848) reconciles each member on its own: a member's assignment()
            // changes when its own poll runs. Caught up means every subscribed partition is assigned to one
            // of the group's members here (a program holds all of its group's members).
            if (c.consumerProtocol) {
                Set<String> topics = c.client.subscription();
                int total = 0;
                for (String t : topics) total += c.client.partitionsFor(t, Duration.ofSeconds(5)).size();
                int assigned = 0;
                for (Consumer o : consumers.values()) {
                    if (!o.closed && o.subscribed && (o == c || (otherMember(c, o) && o.polledSinceSubscribe))) assigned += o.client.assignment().size();
                }
                if (assigned != total) return false;
            }
        }
        Set<TopicPartition> mine = new HashSet<>(c.client.assignment());
        mine.removeAll(c.client.paused());
        if (mine.isEmpty()) return true;
        Map<TopicPartition, Long> ends = c.client.endOffsets(mine, Duration.ofSeconds(5));
        for (TopicPartition t : mine) {
            if (c.client.position(t, Duration.ofSeconds(5)) < ends.get(t)) return false;
        }
        return true;
    }

    static ObjectNode recordNode(ConsumerRecord<String, String> rec) {
        ObjectNode n = JSON.createObjectNode();
        n.put("topic", rec.topic());
        n.put("partition", rec.partition());
        n.put("offset", rec.offset());
        if (rec.key() == null) n.putNull("key"); else n.put("key", rec.key());
        if (rec.value() == null) n.putNull("value"); else n.put("value", rec.value());
        if (rec.headers().toArray().length > 0) {
            ArrayNode hs = n.putArray("headers");
            for (org.apache.kafka.common.header.Header h : rec.headers()) {
                ArrayNode pair = hs.addArray().add(h.key());
                if (h.value() == null) pair.addNull(); else pair.add(new String(h.value(), StandardCharsets.UTF_8));
            }
        }
        if (rec.deliveryCount().isPresent()) n.put("delivery_count", rec.deliveryCount().get().intValue());
        return n;
    }

    static ObjectNode share(Share s, String op, JsonNode call) throws Exception {
        switch (op) {
            case "shareSubscribe": s.client.subscribe(strings(call.get("topics"))); return reply("done");
            case "sharePoll": {
                // The first poll that returns records, or none once the program's duration has passed.
                long deadline = System.currentTimeMillis() + Math.min(call.get("timeout_ms").asLong(), POLL_BOUND_MS);
                List<ConsumerRecord<String, String>> got = new ArrayList<>();
                do {
                    for (ConsumerRecord<String, String> r : s.client.poll(Duration.ofMillis(100))) got.add(r);
                } while (got.isEmpty() && System.currentTimeMillis() < deadline);
                s.last = got;
                ObjectNode r = reply("records");
                ArrayNode a = r.putArray("records");
                for (ConsumerRecord<String, String> rec : got) a.add(recordNode(rec));
                return r;
            }
            case "shareAcknowledge": {
                AcknowledgeType type = AcknowledgeType.valueOf(call.get("kind").asText());
                for (ConsumerRecord<String, String> r : s.last) s.client.acknowledge(r, type);
                return reply("done");
            }
            case "shareCommitSync": {
                // The first failure of a partition's acknowledgements, as the program would see it.
                for (Optional<KafkaException> e : s.client.commitSync().values()) if (e.isPresent()) return error(e.get());
                return reply("done");
            }
            case "shareClose": s.client.close(); return reply("done");
            case "docSharePoll": {
                // One poll of a document's share consumer (short: one driver serves every actor in turn).
                List<ConsumerRecord<String, String>> got = new ArrayList<>();
                for (ConsumerRecord<String, String> r : s.client.poll(Duration.ofMillis(call.get("ms").asLong()))) got.add(r);
                s.last = got;
                ObjectNode r = reply("docPolled");
                ArrayNode a = r.putArray("records");
                for (ConsumerRecord<String, String> rec : got) {
                    ObjectNode n = recordNode(a, rec);
                    org.apache.kafka.common.header.Header h = rec.headers().lastHeader("brokerlab-origin");
                    if (h == null) n.putNull("origin"); else n.put("origin", new String(h.value(), StandardCharsets.UTF_8));
                }
                return r;
            }
            case "docShareAcknowledge": {
                // The last poll's records, each acknowledged with its own type, then commitSync(): the
                // failure of each partition's acknowledgements (InvalidRecordStateException when a lock expired).
                JsonNode kinds = call.get("kinds");
                for (int i = 0; i < s.last.size() && i < kinds.size(); i++) s.client.acknowledge(s.last.get(i), AcknowledgeType.valueOf(kinds.get(i).asText()));
                ObjectNode r = reply("docAcknowledged");
                ObjectNode failed = r.putObject("failed");
                for (Map.Entry<TopicIdPartition, Optional<KafkaException>> e : s.client.commitSync().entrySet())
                    if (e.getValue().isPresent()) failed.put(e.getKey().topic() + "-" + e.getKey().partition(), e.getValue().get().getClass().getSimpleName());
                s.last = new ArrayList<>();
                return r;
            }
        }
        throw new IllegalArgumentException("unknown share consumer call " + op);
    }

    static ObjectNode consumer(Consumer c, String op, JsonNode call) throws Exception {
        if (c.asyncCommitError != null && !op.equals("commitAsync")) {
            Exception e = c.asyncCommitError;
            c.asyncCommitError = null;
            return error(e);
        }
        switch (op) {
            case "subscribe":
                c.client.subscribe(strings(call.get("topics")), c.listener());
                c.subscribed = true;
                c.assignedSinceSubscribe = false;
                c.polledSinceSubscribe = false;
                return reply("done");
            case "assign":
                c.client.assign(tps(call.get("partitions")));
                c.subscribed = false;
                return reply("done");
            case "unsubscribe":
                c.client.unsubscribe();
                c.subscribed = false;
                c.buffer.clear();
                return reply("done");
            case "poll": {
                c.polledSinceSubscribe = true;
                List<ConsumerRecord<String, String>> got = new ArrayList<>(c.buffer);
                c.buffer.clear();
                long deadline = System.currentTimeMillis() + POLL_BOUND_MS;
                boolean lastEmpty = false;
                while (System.currentTimeMillis() < deadline && got.size() < c.maxPollRecords) {
                    int before = got.size();
                    for (ConsumerRecord<String, String> r : c.client.poll(Duration.ofMillis(100))) got.add(r);
                    lastEmpty = got.size() == before;
                    // The group's other members here (consumers that have polled, so joined) take part in a
                    // rebalance this one started, as their own poll loops would.
                    for (Consumer o : consumers.values()) {
                        if (otherMember(c, o) && !o.closed && o.subscribed && o.polledSinceSubscribe && c.subscribed) {
                            for (ConsumerRecord<String, String> r : o.client.poll(Duration.ofMillis(20))) o.buffer.add(r);
                        }
                    }
                    if (lastEmpty && caughtUp(c)) break;
                }
                ObjectNode r = reply("records");
                ArrayNode a = r.putArray("records");
                for (ConsumerRecord<String, String> rec : got) recordNode(a, rec);
                return r;
            }
            case "commitSync": {
                JsonNode o = call.get("offsets");
                if (o == null || o.isNull()) c.client.commitSync();
                else {
                    Map<TopicPartition, OffsetAndMetadata> m = new LinkedHashMap<>();
                    for (JsonNode e : o) m.put(tp(e), new OffsetAndMetadata(e.get("offset").asLong()));
                    c.client.commitSync(m);
                }
                return reply("done");
            }
            case "commitAsync":
                c.client.commitAsync((offsets, e) -> { if (e != null) c.asyncCommitError = e; });
                // The outcome is known by the next statement: a synchronous round trip completes it.
                c.client.commitSync(Map.of());
                return reply("done");
            case "seek": c.client.seek(tp(call.get("partition")), call.get("offset").asLong()); return reply("done");
            case "seekToBeginning": c.client.seekToBeginning(tps(call.get("partitions"))); return reply("done");
            case "seekToEnd": c.client.seekToEnd(tps(call.get("partitions"))); return reply("done");
            case "offsetsForTimes": {
                Map<TopicPartition, Long> q = new LinkedHashMap<>();
                for (JsonNode e : call.get("query")) q.put(tp(e.get(0)), e.get(1).asLong());
                Map<TopicPartition, OffsetAndTimestamp> got = c.client.offsetsForTimes(q, Duration.ofSeconds(10));
                Map<TopicPartition, OffsetAndMetadata> asOffsets = new HashMap<>();
                for (TopicPartition t : q.keySet()) {
                    OffsetAndTimestamp o = got.get(t);
                    asOffsets.put(t, o == null ? null : new OffsetAndMetadata(o.offset()));
                }
                return offsets(asOffsets);
            }
            case "seekToTimestamp": {
                TopicPartition t = tp(call.get("partition"));
                long ts = call.get("timestamp").asLong();
                // The Java idiom, as a program writes it (a null lookup throws its NullPointerException).
                c.client.seek(t, c.client.offsetsForTimes(Map.of(t, ts)).get(t).offset());
                return reply("done");
            }
            case "position": {
                ObjectNode r = reply("offset");
                r.put("offset", c.client.position(tp(call.get("partition")), Duration.ofSeconds(10)));
                return r;
            }
            case "committed":
                return offsets(c.client.committed(new HashSet<>(tps(call.get("partitions"))), Duration.ofSeconds(10)));
            case "pause": c.client.pause(tps(call.get("partitions"))); return reply("done");
            case "resume": c.client.resume(tps(call.get("partitions"))); return reply("done");
            case "assignment": {
                List<TopicPartition> parts = new ArrayList<>(c.client.assignment());
                parts.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
                ObjectNode r = reply("partitions");
                ArrayNode a = r.putArray("partitions");
                for (TopicPartition t : parts) a.add(tpNode(t));
                return r;
            }
            case "groupMetadata": {
                ConsumerGroupMetadata m = c.client.groupMetadata();
                ObjectNode r = reply("groupMetadata");
                r.put("group_id", m.groupId());
                r.put("generation_id", m.generationId());
                r.put("member_id", m.memberId());
                if (m.groupInstanceId().isPresent()) r.put("instance_id", m.groupInstanceId().get()); else r.putNull("instance_id");
                return r;
            }
            case "closeConsumer":
                // Kept: a later call on it gets the client's own "already closed" exception.
                c.client.close(Duration.ofSeconds(30));
                c.closed = true;
                c.subscribed = false;
                return reply("done");
        }
        throw new IllegalArgumentException("unknown consumer call " + op);
    }

    // ---- Kafka documents: each actor's call as the document's poll loop makes it ----

    static final Map<String, List<Object[]>> docPending = new HashMap<>(); // producer -> [seq, future]

    /// `producer.send(record)` with headers, not waited for; its outcome comes with `docOutcomes`.
    static ObjectNode docSend(JsonNode call) {
        String name = call.get("producer").asText();
        KafkaProducer<String, String> p = need(producers, name, "producer");
        JsonNode part = call.get("partition");
        ProducerRecord<String, String> rec = new ProducerRecord<>(call.get("topic").asText(),
            part == null || part.isNull() ? null : part.asInt(), text(call.get("key")), text(call.get("value")));
        for (JsonNode h : call.get("headers")) rec.headers().add(h.get(0).asText(), h.get(1).asText().getBytes(StandardCharsets.UTF_8));
        Object[] entry = new Object[] {call.get("seq").asLong(), null};
        try {
            entry[1] = p.send(rec);
        } catch (Exception e) {
            entry[1] = e;
        }
        docPending.computeIfAbsent(name, k -> new ArrayList<>()).add(entry);
        return reply("done");
    }

    /// The sends of `producer` that completed since the last call, in send order (one not yet done stops
    /// the list: outcomes are reported in order).
    static ObjectNode docOutcomes(String producer) {
        ObjectNode r = reply("docOutcomes");
        ArrayNode a = r.putArray("outcomes");
        List<Object[]> list = docPending.computeIfAbsent(producer, k -> new ArrayList<>());
        while (!list.isEmpty()) {
            Object[] e = list.get(0);
            ObjectNode n = JSON.createObjectNode();
            n.put("seq", (Long) e[0]);
            if (e[1] instanceof Exception) {
                n.set("error", errorNode((Exception) e[1]));
            } else {
                @SuppressWarnings("unchecked") Future<RecordMetadata> f = (Future<RecordMetadata>) e[1];
                if (!f.isDone()) break;
                try {
                    RecordMetadata m = f.get();
                    n.put("partition", m.partition());
                    n.put("offset", m.offset());
                } catch (Exception x) {
                    n.set("error", errorNode(x));
                }
            }
            a.add(n);
            list.remove(0);
        }
        return r;
    }

    /// One `poll(Duration.ofMillis(ms))`: its records (with the `brokerlab-origin` header) and the
    /// assignment after it.
    static ObjectNode docPoll(Consumer c, long ms) {
        ObjectNode r = reply("docPolled");
        ArrayNode a = r.putArray("records");
        for (ConsumerRecord<String, String> rec : c.client.poll(Duration.ofMillis(ms))) {
            ObjectNode n = recordNode(a, rec);
            org.apache.kafka.common.header.Header h = rec.headers().lastHeader("brokerlab-origin");
            if (h == null) n.putNull("origin"); else n.put("origin", new String(h.value(), StandardCharsets.UTF_8));
        }
        List<TopicPartition> parts = new ArrayList<>(c.client.assignment());
        parts.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        ArrayNode an = r.putArray("assignment");
        for (TopicPartition t : parts) an.add(t.topic() + "-" + t.partition());
        return r;
    }

    /// A received record as the `Received` of a reply, added to `a`.
    static ObjectNode recordNode(ArrayNode a, ConsumerRecord<String, String> rec) {
        ObjectNode n = recordNode(rec);
        a.add(n);
        return n;
    }

    /// A crashed process: the consumer stops without leaving its group (KIP-1092's REMAIN_IN_GROUP),
    /// without committing, and without waiting, so its session times out on the broker.
    static ObjectNode docCrash(Consumer c) {
        // close() still auto-commits the positions (enable.auto.commit): a crashed process would not, so the
        // positions go back to the last committed offsets first, and that commit changes nothing.
        quietly(() -> {
            Set<TopicPartition> mine = c.client.assignment();
            Map<TopicPartition, OffsetAndMetadata> committed = c.client.committed(mine, Duration.ofSeconds(5));
            for (TopicPartition t : mine) {
                OffsetAndMetadata o = committed.get(t);
                if (o != null) c.client.seek(t, o.offset()); else c.client.seekToBeginning(List.of(t));
            }
        });
        quietly(() -> c.client.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP).withTimeout(Duration.ZERO)));
        c.closed = true;
        c.subscribed = false;
        return reply("done");
    }
}
