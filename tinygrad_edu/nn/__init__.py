"""Neural-network building blocks: Module, layers, functional forms and initialisation."""
