import { Body, Controller, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseBody } from '@zdm/service-defaults';
import { CreateUserDto } from './dto/create-user.dto';
import { UserResponse } from './dto/user.response';
import { UsersService } from './users.service';

// 400, 413 (with a body), 503 and 504 are added to every route by the service defaults.
@ApiTags('users')
@ApiServiceUnavailableResponse({ type: ErrorResponseBody, description: 'The user store (`dependency: "mongo"`) is down or did not answer before the deadline' })
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Register a user: a unique e-mail address and a password that meets the policy' })
  @ApiCreatedResponse({ type: UserResponse })
  @ApiConflictResponse({ type: ErrorResponseBody, description: 'A user with this e-mail address (after trimming and lower-casing) exists already' })
  register(@Body() body: CreateUserDto): Promise<UserResponse> {
    return this.users.register(body);
  }
}
