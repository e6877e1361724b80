// Runs Apache Kafka's own assignors (from the 4.1.1 jars) on the cases of an assignor case file and prints
// the file back with each case's `expect` lines replaced by Kafka's result. Used once to write the goldens
// in crates/broker_core/tests/kafka/assignors/; see scripts/kafka-probes/README.md.
//
// In package org.apache.kafka.clients.consumer to reach StickyAssignor's user-data encoder, which Kafka's
// own tests use the same way.
package org.apache.kafka.clients.consumer;

import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.internals.AbstractPartitionAssignor;
import org.apache.kafka.clients.consumer.internals.AbstractStickyAssignor.MemberData;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.coordinator.group.api.assignor.GroupAssignment;
import org.apache.kafka.coordinator.group.api.assignor.MemberAssignment;
import org.apache.kafka.coordinator.group.api.assignor.SubscribedTopicDescriber;
import org.apache.kafka.coordinator.group.api.assignor.SubscriptionType;
import org.apache.kafka.coordinator.group.modern.Assignment;
import org.apache.kafka.coordinator.group.modern.GroupSpecImpl;
import org.apache.kafka.coordinator.group.modern.MemberSubscriptionAndAssignmentImpl;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

public class AssignorProbe {
    static final class Member {
        String id; String instance; List<String> topics = new ArrayList<>();
        List<TopicPartition> owned = new ArrayList<>(); Integer generation; String rack;
    }
    // Rack cases: broker i's rack (`brokers a,b,-`: node ids from 0, `-` for none) and each topic's
    // replica lists (`topic t 2 replicas=0/1,1/2`).
    static List<String> brokerRacks = new ArrayList<>();
    static Map<String, List<int[]>> replicas = new HashMap<>();

    public static void main(String[] args) throws Exception {
        List<String> lines = Files.readAllLines(Path.of(args[0]));
        StringBuilder out = new StringBuilder();
        String assignor = null;
        Map<String, Integer> topics = new LinkedHashMap<>();
        List<Member> members = new ArrayList<>();
        for (String line : lines) {
            String t = line.trim();
            if (t.startsWith("expect ")) continue;
            out.append(line).append('\n');
            if (t.startsWith("case ")) { assignor = null; topics.clear(); members.clear(); brokerRacks.clear(); replicas.clear(); }
            else if (t.startsWith("brokers ")) brokerRacks.addAll(Arrays.asList(t.substring(8).trim().split(",")));
            else if (t.startsWith("assignor ")) assignor = t.substring(9).trim();
            else if (t.startsWith("topic ")) {
                String[] p = t.split("\\s+");
                topics.put(p[1], Integer.parseInt(p[2]));
                if (p.length > 3 && p[3].startsWith("replicas=")) {
                    List<int[]> list = new ArrayList<>();
                    for (String r : p[3].substring(9).split(","))
                        list.add(Arrays.stream(r.split("/")).mapToInt(Integer::parseInt).toArray());
                    replicas.put(p[1], list);
                }
            }
            else if (t.startsWith("member ")) members.add(parseMember(t));
            else if (t.equals("run")) {
                Map<String, List<TopicPartition>> result;
                try {
                    result = run(assignor, topics, members);
                } catch (RuntimeException e) {
                    // Kafka's assignor itself failed on this group (a random case can hit its
                    // NullPointerException in performReassignments): marked, for the case to be dropped.
                    out.append("kafka-threw ").append(e.getClass().getSimpleName()).append('\n');
                    continue;
                }
                for (Member m : members) {
                    List<TopicPartition> list = new ArrayList<>(result.getOrDefault(m.id, List.of()));
                    list.sort(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
                    StringBuilder e = new StringBuilder("expect " + m.id);
                    for (TopicPartition tp : list) e.append(' ').append(tp);
                    out.append(e).append('\n');
                }
            }
        }
        System.out.print(out);
    }

    static Member parseMember(String line) {
        Member m = new Member();
        String[] parts = line.split("\\s+");
        m.id = parts[1];
        for (int i = 2; i < parts.length; i++) {
            String[] kv = parts[i].split("=", 2);
            switch (kv[0]) {
                case "instance": m.instance = kv[1]; break;
                case "topics": if (!kv[1].isEmpty()) m.topics.addAll(Arrays.asList(kv[1].split(","))); break;
                case "owned":
                    if (!kv[1].isEmpty()) for (String tp : kv[1].split(",")) {
                        int dash = tp.lastIndexOf('-');
                        m.owned.add(new TopicPartition(tp.substring(0, dash), Integer.parseInt(tp.substring(dash + 1))));
                    }
                    break;
                case "generation": m.generation = Integer.parseInt(kv[1]); break;
                case "rack": m.rack = kv[1]; break;
                default: throw new IllegalArgumentException("unknown field " + kv[0]);
            }
        }
        return m;
    }

    static Map<String, List<TopicPartition>> run(String assignor, Map<String, Integer> topics, List<Member> members) {
        if (assignor.startsWith("server-")) return runServer(assignor, topics, members);
        // As ConsumerCoordinator.onLeaderElected builds it: a HashMap filled in the members' order.
        Map<String, Subscription> subscriptions = new HashMap<>();
        for (Member m : members) {
            Subscription s;
            int generation = m.generation == null ? -1 : m.generation;
            if (assignor.equals("sticky")) {
                // The eager sticky assignor carries owned partitions and generation in its user data.
                java.nio.ByteBuffer userData = m.generation == null && m.owned.isEmpty() ? null
                    : StickyAssignor.serializeTopicPartitionAssignment(new MemberData(m.owned,
                        Optional.ofNullable(m.generation)));
                s = new Subscription(m.topics, userData, List.of(), generation, Optional.ofNullable(m.rack));
            } else {
                s = new Subscription(m.topics, null, m.owned, generation, Optional.ofNullable(m.rack));
            }
            if (m.instance != null) s.setGroupInstanceId(Optional.of(m.instance));
            subscriptions.put(m.id, s);
        }
        // As AbstractPartitionAssignor.assign(Cluster, …): subscribed topics that have partitions.
        Map<String, Integer> partitionsPerTopic = new HashMap<>();
        for (Member m : members)
            for (String t : m.topics)
                if (topics.getOrDefault(t, 0) > 0) partitionsPerTopic.put(t, topics.get(t));
        AbstractPartitionAssignor a;
        switch (assignor) {
            case "range": a = new RangeAssignor(); break;
            case "roundrobin": a = new RoundRobinAssignor(); break;
            case "sticky": a = new StickyAssignor(); break;
            case "cooperative-sticky": a = new CooperativeStickyAssignor(); break;
            default: throw new IllegalArgumentException(assignor);
        }
        if (brokerRacks.isEmpty()) return a.assign(partitionsPerTopic, subscriptions);
        // With racks: partition infos whose replicas are nodes with racks, as the consumer's metadata has them.
        Map<String, List<org.apache.kafka.common.PartitionInfo>> infos = new HashMap<>();
        for (String topic : partitionsPerTopic.keySet()) {
            List<org.apache.kafka.common.PartitionInfo> list = new ArrayList<>();
            for (int p = 0; p < partitionsPerTopic.get(topic); p++) {
                int[] ids = replicas.get(topic).get(p);
                org.apache.kafka.common.Node[] nodes = new org.apache.kafka.common.Node[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    String rack = brokerRacks.get(ids[i]);
                    nodes[i] = new org.apache.kafka.common.Node(ids[i], "", ids[i], rack.equals("-") ? null : rack);
                }
                list.add(new org.apache.kafka.common.PartitionInfo(topic, p, nodes[0], nodes, nodes));
            }
            infos.put(topic, list);
        }
        return a.assignPartitions(infos, subscriptions);
    }

    static Map<String, List<TopicPartition>> runServer(String assignor, Map<String, Integer> topics, List<Member> members) {
        // Topic ids ordered as topic names (ids 2, 3, …: their hash codes iterate in that order too).
        List<String> names = new ArrayList<>(topics.keySet());
        Collections.sort(names);
        Map<String, Uuid> ids = new HashMap<>();
        Map<Uuid, String> namesById = new HashMap<>();
        for (int i = 0; i < names.size(); i++) { Uuid id = new Uuid(0, i + 2); ids.put(names.get(i), id); namesById.put(id, names.get(i)); }
        // Members in member-id order (a TreeMap), the order this model iterates them.
        Map<String, MemberSubscriptionAndAssignmentImpl> specs = new TreeMap<>();
        Map<Uuid, Map<Integer, String>> inverted = new HashMap<>();
        Set<Set<String>> distinct = new HashSet<>();
        for (Member m : members) {
            Set<Uuid> subscribed = new TreeSet<>();
            Set<String> subscribedNames = new TreeSet<>();
            for (String t : m.topics) if (ids.containsKey(t)) { subscribed.add(ids.get(t)); subscribedNames.add(t); }
            distinct.add(subscribedNames);
            Map<Uuid, Set<Integer>> owned = new TreeMap<>();
            for (TopicPartition tp : m.owned) {
                owned.computeIfAbsent(ids.get(tp.topic()), k -> new TreeSet<>()).add(tp.partition());
                inverted.computeIfAbsent(ids.get(tp.topic()), k -> new HashMap<>()).put(tp.partition(), m.id);
            }
            specs.put(m.id, new MemberSubscriptionAndAssignmentImpl(Optional.empty(), Optional.ofNullable(m.instance),
                subscribed, new Assignment(Collections.unmodifiableMap(owned))));
        }
        SubscriptionType type = distinct.size() <= 1 ? SubscriptionType.HOMOGENEOUS : SubscriptionType.HETEROGENEOUS;
        SubscribedTopicDescriber describer = new SubscribedTopicDescriber() {
            public int numPartitions(Uuid id) { String n = namesById.get(id); return n == null ? -1 : topics.get(n); }
            public Set<String> racksForPartition(Uuid id, int p) { return Set.of(); }
        };
        GroupSpecImpl spec = new GroupSpecImpl(specs, type, inverted);
        GroupAssignment result = assignor.equals("server-range")
            ? new org.apache.kafka.coordinator.group.assignor.RangeAssignor().assign(spec, describer)
            : new org.apache.kafka.coordinator.group.assignor.UniformAssignor().assign(spec, describer);
        Map<String, List<TopicPartition>> out = new HashMap<>();
        for (Map.Entry<String, MemberAssignment> e : result.members().entrySet()) {
            List<TopicPartition> list = new ArrayList<>();
            for (Map.Entry<Uuid, Set<Integer>> tp : e.getValue().partitions().entrySet())
                for (int p : tp.getValue()) list.add(new TopicPartition(namesById.get(tp.getKey()), p));
            out.put(e.getKey(), list);
        }
        return out;
    }
}
