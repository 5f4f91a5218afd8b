// `import Cortado` brings in the device runtime too: Device, DeviceInfo, withDefaultDevice, errors.
@_exported import CortadoRuntime
