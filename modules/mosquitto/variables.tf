# Mosquitto-specific variables. The common ones (name, image, profiles, limits,
# persistence, snapshots...) are in common_variables.tf, shared by every service module.

variable "mosquitto_port" {
  description = "MQTT port."
  type        = number
  default     = 1883
}

variable "mosquitto_allow_anonymous" {
  description = "Allow clients without credentials."
  type        = bool
  default     = false
}

variable "expose_port" {
  description = "Bridge mode: add a proxy device publishing the MQTT port on the host."
  type        = bool
  default     = false
}
