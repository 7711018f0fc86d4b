// momd: the MOM node daemon. The node is assembled in the Broker module as it lands.
import Broker
