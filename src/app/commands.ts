import type { Command } from 'commander';
import { registerDemoCommand } from '../modules/demo/demo.command.ts';
import { registerIntegrationCommands } from '../modules/integrations/integrations.commands.ts';
import { registerInventoryCommands } from '../modules/inventory/inventory.command.ts';
import { registerNightAuditCommand } from '../modules/night-audit/night-audit.command.ts';
import type { AppConfig } from './config.ts';

/**
 * CLI commands contributed by domain modules (bootstrap-inventory, sync, simulate-pms, demo).
 * Each module adds a `register…Command(program, config)` call here.
 */
export function registerCommands(program: Command, config: () => AppConfig): void {
  registerInventoryCommands(program, config);
  registerDemoCommand(program, config);
  registerIntegrationCommands(program, config);
  registerNightAuditCommand(program, config);
}
