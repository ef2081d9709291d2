"""What a stack is made of and what it costs: the resource vocabulary (``resources``) and the idle cost model
(``cost``, prices in ``pricing.json``). Below both the policy pack and the operator CLI; imports neither."""
