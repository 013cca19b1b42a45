// Offerings for tests: the old broker's documented dynamicservice example, and a template folder.
export const MONGO_DYNAMIC_SERVICE = {
  organization_guid: 'fcb5307e-4995-4eeb-bfcd-08b3d3023bb5',
  space_guid: '88d4676a-e374-4e36-9814-c269b85c5a0f',
  parameters: null,
  updateBroker: true,
  dynamicService: {
    serviceName: 'dynamic-mongo',
    planName: 'dynamic-mongo',
    isPlanFree: true,
    containers: [
      {
        name: 'k-mongodb30',
        image: 'frodenas/mongodb:3.0',
        ports: [{ containerPort: 27017, protocol: 'TCP' }],
        env: [
          { name: 'MANAGED_BY', value: 'TAP' },
          { name: 'MONGODB_PASSWORD', value: 'user' },
          { name: 'MONGODB_USERNAME', value: 'password' },
          { name: 'MONGODB_DBNAME', value: 'test' },
        ],
        resources: {},
        imagePullPolicy: '',
      },
    ],
    servicePorts: [{ name: '', protocol: 'TCP', port: 27017, targetPort: 0, nodePort: 0 }],
    credentialMappings: {
      dbname: '$env_MONGODB_DBNAME',
      hostname: '$hostname',
      password: '$env_MONGODB_PASSWORD',
      port: '$port_27017',
      ports: { '27017/tcp': '$port_27017' },
      uri: 'mongodb://$env_MONGODB_USERNAME:$env_MONGODB_PASSWORD@$hostname:$port_27017/$env_MONGODB_DBNAME',
      username: '$env_MONGODB_USERNAME',
    },
  },
};

/** The files of a small offering in the catalog's own format (YAML template, JSON plan). */
export function templateFolder(serviceId: string, planId: string, name: string): Record<string, unknown> {
  return {
    'service.json': { id: serviceId, name, description: `${name}, added at runtime`, bindable: true, tags: ['kv'] },
    'small/plan.json': { id: planId, name: 'small', description: 'one server', free: true },
    'small/k8s/secret.yaml': ['apiVersion: v1', 'kind: Secret', 'metadata:', '  name: $short_serviceid-kv', 'stringData:', '  password: $random1', ''].join(
      '\n',
    ),
    'small/k8s/deployment.yaml': [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: $short_serviceid-kv',
      'spec:',
      '  replicas: 1',
      '  selector:',
      '    matchLabels: { service_id: "$service_id" }',
      '  template:',
      '    metadata:',
      '      labels: { service_id: "$service_id" }',
      '    spec:',
      '      containers:',
      '        - name: kv',
      '          image: example/kv:1',
      '          ports: [{ containerPort: 7000 }]',
      '          env:',
      '            - name: KV_PASSWORD',
      '              valueFrom: { secretKeyRef: { name: $short_serviceid-kv, key: password } }',
      '',
    ].join('\n'),
    'small/k8s/service.yaml': [
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: $short_serviceid-kv',
      'spec:',
      '  selector: { service_id: "$service_id" }',
      '  ports: [{ name: kv, port: 7000, targetPort: 7000 }]',
      '',
    ].join('\n'),
    'small/credentials-mappings.json': { host: '$hostname', port: '$port_7000', password: '$env_KV_PASSWORD' },
  };
}
