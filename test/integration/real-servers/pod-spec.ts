// The parts of a hook Job's pod spec that the real-server harness reads.
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  serviceAccountName?: string;
  /** emptyDir volumes only, in the shipped hooks. */
  volumes?: { name: string }[];
}
