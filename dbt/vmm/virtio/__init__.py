"""virtio 1.x devices over the MMIO transport (version 2) with split virtqueues."""
