import HTTP
import UV
import EventStore
public enum AppModule {}
