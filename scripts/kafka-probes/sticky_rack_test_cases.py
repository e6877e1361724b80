#!/usr/bin/env python3
"""Writes the rack cases of Kafka's AbstractStickyAssignorTest (testRackAwareAssignmentWithUniformSubscription,
testRackAwareAssignmentWithNonEqualSubscription; the calls with preferRackAwareLogic false) as assignor cases for
AssignorProbe.java; its output is the sticky part of crates/broker_core/tests/kafka/assignors/kafka_rack_tests.txt.
The cases are re-expressed as data from the test's parameters (topics, replication factor, broker and consumer
racks, owned partitions), not copied code; each case names the assignment Kafka's test asserts.

Usage: sticky_rack_test_cases.py > cases.txt
"""
# Kafka's AbstractStickyAssignorTest rack cases (preferRackAwareLogic false, the client's setting), as case data.
TOPICS = [("t1", 6), ("t2", 7), ("t3", 2)]
ALL = ["t1", "t2", "t3"]
def racks(n): return ["abcdef"[i % 6] for i in range(n)]
def nulls(n): return [None] * n
NONRACK_U = ["t1-0, t1-3, t2-0, t2-3, t2-6", "t1-1, t1-4, t2-1, t2-4, t3-0", "t1-2, t1-5, t2-2, t2-5, t3-1"]
NONRACK_N = ["t1-5, t2-0, t2-2, t2-4, t2-6", "t1-3, t2-1, t2-3, t2-5, t3-0", "t1-0, t1-1, t1-2, t1-4, t3-1"]
OWNED_MIS = ["t1-0, t1-1, t1-2, t1-3, t1-4", "t1-5, t2-0, t2-1, t2-2, t2-3", "t2-4, t2-5, t2-6, t3-0, t3-1"]
out = ["", "# AbstractStickyAssignorTest.testRackAwareAssignmentWith{Uniform,NonEqual}Subscription (KIP-881), the calls",
       "# with preferRackAwareLogic false (the client's setting): topics t1:6, t2:7, t3:2; partition i of a topic on",
       "# brokers (i + j + first) % brokers for j < replication factor, `first` counting the earlier topics' partitions;",
       "# each verify{Uniform,NonEqual}Subscription call once without owned partitions and once owning Kafka's expected",
       "# assignment. Expectations by Kafka 4.1.1 (AssignorProbe); each equals the assignment Kafka's test asserts, except",
       "# for the eager sticky assignor with owned partitions (Kafka's test passes them where StickyAssignor does not",
       "# read them; here they travel in its user data at generation 1, as a real consumer sends them)."]
n = [0]
def case(assignor, test, label, rf, brokers, consumers, topics_of, owned, expect_kafka):
    n[0] += 1
    eager_owned = assignor == "sticky" and owned
    note = ("owned partitions in the eager assignor's user data at generation 1, where Kafka's test gives them in "
            "a field StickyAssignor does not read" if eager_owned else "Kafka asserts " + " | ".join(expect_kafka))
    lines = [f"case {assignor}-racks-{test}-{label}", f"source AbstractStickyAssignorTest.testRackAwareAssignmentWith{test}Subscription ({label}; {note})",
             f"assignor {assignor}", "brokers " + ",".join(b or "-" for b in brokers)]
    first = 0
    for t, count in TOPICS:
        reps = ["/".join(str((i + j + first) % len(brokers)) for j in range(rf)) for i in range(count)]
        lines.append(f"topic {t} {count} replicas=" + ",".join(reps))
        first += count
    for i, rack in enumerate(consumers):
        l = f"member consumer{i} topics=" + ",".join(topics_of[i])
        if owned and owned[i]:
            l += " owned=" + owned[i].replace(", ", ",")
            if eager_owned:
                l += " generation=1"
        if rack:
            l += f" rack={rack}"
        lines.append(l)
    lines.append("run")
    out.append("")
    out.extend(lines)
for assignor in ["sticky", "cooperative-sticky"]:
    for test, topics_of, nonrack in [("Uniform", [ALL, ALL, ALL], NONRACK_U), ("NonEqual", [ALL, ALL, ["t1", "t3"]], NONRACK_N)]:
        calls = [("null-broker-racks", 3, nulls(3), racks(3), nonrack),
                 ("null-consumer-racks", 3, racks(3), nulls(3), nonrack),
                 ("all-racks-match", 3, racks(3), racks(3), nonrack),
                 ("consumers-on-other-racks", 3, racks(3), ["d", "e", "f"], nonrack),
                 ("one-consumer-without-rack", 3, racks(3), [None, "e", "f"], nonrack)]
        if test == "Uniform":
            calls += [("rf1", 1, racks(3), racks(3), NONRACK_U), ("rf2", 2, racks(3), racks(3), NONRACK_U),
                      ("consumer-on-rack-without-partitions", 3, racks(2), racks(3), NONRACK_U)]
        else:
            calls += [("rf1", 1, racks(3), racks(3), ["t1-3, t2-0, t2-2, t2-3, t2-6", "t1-4, t2-1, t2-4, t2-5, t3-0", "t1-0, t1-1, t1-2, t1-5, t3-1"]),
                      ("rf2", 2, racks(3), racks(3), ["t1-3, t2-0, t2-2, t2-5, t2-6", "t1-0, t2-1, t2-3, t2-4, t3-0", "t1-1, t1-2, t1-4, t1-5, t3-1"]),
                      ("consumer-on-rack-without-partitions", 3, racks(2), racks(3), NONRACK_N)]
        for label, rf, b, c, exp in calls:
            case(assignor, test, label, rf, b, c, topics_of, None, exp)
            case(assignor, test, label + "-owning-it", rf, b, c, topics_of, exp, exp)
        # Owned partitions not on the member's rack (replication factor 1).
        if test == "Uniform":
            exp = ["t1-0, t1-3", "t2-1", "t2-5, t3-1"] if assignor == "cooperative-sticky" else NONRACK_U
        else:
            exp = ["t1-3", "t2-1", "t3-1"] if assignor == "cooperative-sticky" else ["t1-3, t2-0, t2-2, t2-3, t2-6", "t1-4, t2-1, t2-4, t2-5, t3-0", "t1-0, t1-1, t1-2, t1-5, t3-1"]
        case(assignor, test, "rf1-owned-misaligned", 1, racks(3), racks(3), topics_of, OWNED_MIS, exp)
        if test == "NonEqual":
            if assignor == "sticky":
                case(assignor, test, "all-racks-match-owned", 3, racks(3), racks(3), topics_of, OWNED_MIS, NONRACK_N)
            else:
                inter = ["t1-2, t1-3, t1-4", "t2-0, t2-1, t2-2, t2-3", "t3-0, t3-1"]
                case(assignor, test, "all-racks-match-owned", 3, racks(3), racks(3), topics_of, OWNED_MIS, inter)
                case(assignor, test, "all-racks-match-owned-second-round", 3, racks(3), racks(3), topics_of, inter,
                     ["t1-2, t1-3, t1-4, t2-4, t2-5", "t2-0, t2-1, t2-2, t2-3, t2-6", "t1-0, t1-1, t1-5, t3-0, t3-1"])
print("\n".join(out))
