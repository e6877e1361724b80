#!/usr/bin/env python3
"""Writes seeded random assignor cases (without expectations) for AssignorProbe.java to complete.

Usage: random_cases.py SEED COUNT > cases.txt; then
java -cp "probe-classes:$KAFKA/*" org.apache.kafka.clients.consumer.AssignorProbe cases.txt > random.txt
"""
import random
import sys

ASSIGNORS = ["range", "roundrobin", "sticky", "cooperative-sticky", "server-uniform", "server-range"]


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    print(f"# Seeded random groups (random_cases.py {seed} {count}); expectations by Kafka 4.1.1 (AssignorProbe).")
    for i in range(count):
        assignor = ASSIGNORS[i % len(ASSIGNORS)]
        n_topics = rng.randint(1, 5)
        topics = {f"t{rng.choice('abcdefgh')}{k}": rng.randint(1, 12) for k in range(n_topics)}
        names = sorted(topics)
        n_members = rng.randint(1, 9)
        same = rng.random() < 0.5
        shared = rng.sample(names, rng.randint(1, len(names)))
        members = []
        for m in range(n_members):
            member_id = f"consumer-{m}-{rng.getrandbits(32):08x}"
            subs = shared if same else rng.sample(names, rng.randint(1, len(names)))
            if rng.random() < 0.1:
                subs = subs + ["missing"]
            instance = f"instance-{rng.randint(0, 99)}" if rng.random() < 0.3 else None
            members.append([member_id, instance, subs, [], None])
        # Owned partitions: a previous owner for some partitions (server: always disjoint; client sticky
        # ones: sometimes claimed twice, with generations).
        if assignor in ("sticky", "cooperative-sticky", "server-uniform"):
            for t, n in topics.items():
                for p in range(n):
                    if rng.random() < 0.7:
                        owner = rng.choice(members)
                        owner[3].append(f"{t}-{p}")
                        if assignor != "server-uniform" and rng.random() < 0.08:
                            rng.choice(members)[3].append(f"{t}-{p}")
            if assignor != "server-uniform":
                base = rng.randint(1, 20)
                for m in members:
                    if m[3] or rng.random() < 0.5:
                        m[4] = base - rng.choice([0, 0, 0, 1, 2])
        seen_instances = set()
        print()
        print(f"case random-{seed}-{i}")
        print(f"source random_cases.py seed {seed}")
        print(f"assignor {assignor}")
        for t in names:
            print(f"topic {t} {topics[t]}")
        for member_id, instance, subs, owned, generation in members:
            line = f"member {member_id}"
            if instance and instance not in seen_instances:
                seen_instances.add(instance)
                line += f" instance={instance}"
            line += " topics=" + ",".join(subs)
            if owned:
                line += " owned=" + ",".join(owned)
            if generation is not None:
                line += f" generation={generation}"
            print(line)
        print("run")


main()
