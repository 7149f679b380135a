"""The whole federation on one machine: the Fabric network plus every hospital's services."""
