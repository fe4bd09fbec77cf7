// EventStore module: see the issue for the contract.
public enum EventStoreModule {}
