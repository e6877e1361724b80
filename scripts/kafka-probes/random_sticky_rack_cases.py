#!/usr/bin/env python3
"""Writes seeded random groups with racks (KIP-881) for the sticky and cooperative-sticky assignors, without
expectations, for AssignorProbe.java to complete: brokers with racks (some without), topics whose partitions
have replicas on some of them, members with a client.rack (or none), the same or different subscriptions
(the constrained and the general builder), owned partitions (some claimed twice) and generations.

Usage: random_sticky_rack_cases.py SEED COUNT > cases.txt; then
java -cp "probe-classes:$KAFKA/*" org.apache.kafka.clients.consumer.AssignorProbe cases.txt > random_sticky_racks.txt
"""
import random
import sys


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    print(f"# Seeded random racked groups for the sticky assignors (random_sticky_rack_cases.py {seed} {count});")
    print("# expectations by Kafka 4.1.1 (AssignorProbe).")
    for i in range(count):
        assignor = ["sticky", "cooperative-sticky"][i % 2]
        n_brokers = rng.randint(2, 6)
        racks = [rng.choice("abc-") if rng.random() < 0.3 else "abc"[b % rng.randint(1, 3)] for b in range(n_brokers)]
        n_topics = rng.randint(1, 4)
        topics = {}
        for k in range(n_topics):
            name = f"t{rng.choice('abcdefgh')}{k}"
            n = rng.randint(1, 10)
            rf = rng.randint(1, min(3, n_brokers))
            topics[name] = [rng.sample(range(n_brokers), rf) for _ in range(n)]
        names = sorted(topics)
        n_members = rng.randint(1, 7)
        same = rng.random() < 0.5
        shared = rng.sample(names, rng.randint(1, len(names)))
        members = []
        for m in range(n_members):
            member_id = f"consumer-{m}-{rng.getrandbits(32):08x}"
            subs = shared if same else rng.sample(names, rng.randint(1, len(names)))
            instance = f"instance-{rng.randint(0, 99)}" if rng.random() < 0.2 else None
            rack = rng.choice("abcd") if rng.random() < 0.8 else None
            members.append([member_id, instance, subs, [], None, rack])
        if rng.random() < 0.7:
            for t in names:
                for p in range(len(topics[t])):
                    if rng.random() < 0.7:
                        rng.choice(members)[3].append(f"{t}-{p}")
                        if rng.random() < 0.05:
                            rng.choice(members)[3].append(f"{t}-{p}")
            base = rng.randint(1, 20)
            for m in members:
                if m[3] or rng.random() < 0.5:
                    m[4] = base - rng.choice([0, 0, 0, 1, 2])
        seen_instances = set()
        print()
        print(f"case sticky-racks-random-{seed}-{i}")
        print(f"source random_sticky_rack_cases.py seed {seed}")
        print(f"assignor {assignor}")
        print("brokers " + ",".join(racks))
        for t in names:
            print(f"topic {t} {len(topics[t])} replicas=" + ",".join("/".join(map(str, r)) for r in topics[t]))
        for member_id, instance, subs, owned, generation, rack in members:
            line = f"member {member_id}"
            if instance and instance not in seen_instances:
                seen_instances.add(instance)
                line += f" instance={instance}"
            line += " topics=" + ",".join(subs)
            if owned:
                line += " owned=" + ",".join(owned)
            if generation is not None:
                line += f" generation={generation}"
            if rack:
                line += f" rack={rack}"
            print(line)
        print("run")


main()
