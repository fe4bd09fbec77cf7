import EventStore
print("store tool")
